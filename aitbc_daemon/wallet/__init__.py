"""Encrypted keystore and addresses: the daemon signs for the user, keys never leave it unencrypted.

`keystore.Keystore` is the entry point; `errors` holds the typed refusals.
"""
