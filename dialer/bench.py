def register(bench_sub):  # placeholder until dialer core lands
    pass
