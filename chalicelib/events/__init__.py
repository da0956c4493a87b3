"""Domain events: written to the outbox with the change, consumed from the table's stream."""
