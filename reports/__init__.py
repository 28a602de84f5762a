"""Statistics and the funder's (Interreg LLI-457) reports. Reads every app below; nobody imports it."""
