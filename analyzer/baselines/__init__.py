"""What the hardening baselines (DISA STIGs, CIS) say, read from the documents their publishers distribute."""
