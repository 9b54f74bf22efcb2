"""The console's use cases: people (signing in and out, the accounts behind them) and the delivery team's tasks."""
