"""Plans: cells to territories, edits and undo, rules, scenarios, the book of business, rebalancing."""
