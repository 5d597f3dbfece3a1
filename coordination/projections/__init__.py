"""Read models built from events, one module per question answered."""
