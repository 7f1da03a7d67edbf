"""Capacity forecast (issue 6): a stock-and-flow model of shelter, §107 and housing,
fitted on the month's tables, simulated over many seeded paths per scenario.

Entry points: ``step.run_forecast`` / ``step.write_outputs`` (the notebook step),
``model.fit`` and ``simulate.simulate`` (the model), ``backtest`` and ``series``
(accuracy on local history and on plain count series). Method: docs/forecast.md.
"""
