"""The data set schema: the label, the 20 features, their formulas and limits (GET /api/schema)."""
