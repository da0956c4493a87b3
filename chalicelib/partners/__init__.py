"""The partner program: tiers and margins, quotes (docs/partners.md)."""
