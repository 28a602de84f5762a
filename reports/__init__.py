"""Usage statistics and the Interreg LLI-457 funder reports (arrives with the reports issue).

Reads every app below it through their selectors; nothing imports ``reports``.
"""
