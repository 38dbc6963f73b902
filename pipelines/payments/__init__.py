"""The payment stage: the worker that turns payment-commands into gateway calls."""
