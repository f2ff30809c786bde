"""Where records come from: LookupEvents pages or trail log files, behind one protocol."""
