"""symdiff's version, importable without loading the compiler."""

VERSION = "0.1.0"
