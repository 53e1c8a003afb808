"""WeChat groups, through the python wechaty SDK and a wechaty puppet service."""
