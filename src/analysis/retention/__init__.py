"""Housing retention, returns to shelter, payment capacity and the state rent-subsidy step-down.

One chain used by one step (notebooks/40_retention_payment.ipynb, through
``step``): ``survival`` (Kaplan–Meier, log-rank) ← ``retention`` (curves,
returns, CTI courses) ← ``payment`` (disposable amount, arrears) ← ``subsidy``
(the step-down schedule and its projection). Definitions:
docs/retention-and-payment.md; indicator entries: indicators/catalogue/retention.yml.
"""
