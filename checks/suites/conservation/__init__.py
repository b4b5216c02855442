"""Conservation laws (Marcotte, Peyré, Gribonval; MPG-P1…P14) and sign freezing (BF-P3): one module per check."""
