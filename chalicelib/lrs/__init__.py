"""The Learning Record Store (xAPI 1.0.3): credentials, statements, queries, documents."""
