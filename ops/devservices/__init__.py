"""Development services the tests and the bench start for themselves: a PostgreSQL cluster, a Tansu broker."""
