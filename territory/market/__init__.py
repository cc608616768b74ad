"""The market layer: a market universe (every establishment) summed per H3 cell, on DuckDB or
Spark, and kept in the planner's database beside the accounts (docs/market.md)."""
