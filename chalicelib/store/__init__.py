"""Single-table store: key schema, models, pagination, transactions."""
