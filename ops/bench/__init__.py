"""`coordination bench`: the benchmark suite, each figure beside the machine's raw limit from the same run."""
