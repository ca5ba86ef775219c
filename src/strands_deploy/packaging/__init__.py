"""Packaging: content hashes of agent folders, the code zip and the dependency layer."""
