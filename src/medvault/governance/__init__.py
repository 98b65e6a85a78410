"""Governance: risk classification of applications, model change control, pilot analytics, evidence.

The pilot analytics report lives in `medvault.governance.pilot` (`build_report`).
"""
