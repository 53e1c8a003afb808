"""Geography: grids and levels (微网格), a ticket's place, merged reports, rest stations."""
