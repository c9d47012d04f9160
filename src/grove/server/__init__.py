"""HTTP apps per role and the all-in-one node (Druid-compatible routes, error rendering)."""
