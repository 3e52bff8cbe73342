"""Report renderers, one per format behind one small interface; `report.json` is the canonical one."""
