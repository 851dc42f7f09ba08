"""The double-entry ledger: journals, entries, wallets, one posting function per movement."""
