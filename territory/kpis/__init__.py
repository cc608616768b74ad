"""Leadership's numbers: scorecards, forecasts, rep allocation and their charts."""
