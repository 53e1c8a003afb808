"""The one door to the wechaty SDK: import wechaty names from here, never from `wechaty` directly.

wechaty 0.10.7 was written for Python ≤ 3.10. On 3.11, `dataclasses` refuses an unhashable
instance as a field default, and `wechaty.WechatyOptions` has `puppet_options: PuppetOptions =
PuppetOptions()`, so `import wechaty` raises "mutable default … is not allowed" unless
`PuppetOptions` is hashable first. Giving it identity hashing is harmless (nothing hashes it by
value). The install pins that go with it (`pyee<9`, `urllib3<2`) are in pyproject's `wechat`
extra.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

# Importing wechaty creates its cache folder (`CACHE_DIR`, default `./.wechaty` in the working
# directory, i.e. inside the repository). Keep it in the temp folder unless told otherwise.
os.environ.setdefault("CACHE_DIR", str(Path(tempfile.gettempdir()) / "woodpecker-wechaty"))

from wechaty_puppet.schemas.puppet import PuppetOptions

PuppetOptions.__hash__ = object.__hash__  # type: ignore[method-assign]  # see the docstring

import warnings  # noqa: E402

from grpclib.const import Status as GrpcStatus  # noqa: E402
from grpclib.exceptions import GRPCError  # noqa: E402

with warnings.catch_warnings():  # wechaty's plugin module imports telnetlib (deprecated in 3.11)
    warnings.simplefilter("ignore", DeprecationWarning)
    from wechaty import Wechaty, WechatyOptions
    from wechaty.user import Contact, Message, Room
    from wechaty.utils import qr_terminal
from wechaty_puppet import EventMessagePayload, FileBox, MessageType, Puppet  # noqa: E402
from wechaty_puppet.file_box.type import FileBoxType  # noqa: E402
from wechaty_puppet.schemas.types import (  # noqa: E402
    ContactPayload,
    ImageType,
    MessagePayload,
    RoomMemberPayload,
    RoomPayload,
)


def fake_puppet_class() -> type[Puppet]:
    """wechaty's offline FakePuppet, for tests (imported here, after the shim above)."""
    from wechaty.fake_puppet import FakePuppet

    return FakePuppet


__all__ = [
    "Contact",
    "ContactPayload",
    "EventMessagePayload",
    "FileBox",
    "FileBoxType",
    "GRPCError",
    "GrpcStatus",
    "ImageType",
    "Message",
    "MessagePayload",
    "MessageType",
    "Puppet",
    "PuppetOptions",
    "Room",
    "RoomMemberPayload",
    "RoomPayload",
    "Wechaty",
    "WechatyOptions",
    "fake_puppet_class",
    "qr_terminal",
]
