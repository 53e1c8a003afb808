"""Use cases: intake, ticket workflow, points, digest. No chat SDK is imported here."""
