"""The rule engine: rule schema and loader, condition operators (→ pandas masks), evaluation, rule tests."""
