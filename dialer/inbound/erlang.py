"""Erlang A (Palm's M/M/n+M queue): how many agents answer X % of calls within T seconds
when callers hang up after an exponentially distributed patience.

No maintained Python library computes it offline (pyworkforce, erlanglib and
call-center-tools stop at Erlang C; ErlangCCmath posts every question to a web service),
so it is computed here, exactly, from the birth-and-death chain of the number of callers
in the system (Mandelbaum & Zeltyn, "The Palm/Erlang-A queue", 2005):

- state k (callers in the system) leaves up at rate λ and down at rate
  min(k, n)·μ + max(k − n, 0)·θ, with μ = 1/AHT and θ = 1/mean patience;
- an arrival sees the stationary distribution (PASTA);
- a caller who finds j callers ahead in the queue is answered once j + 1 "advances" have
  happened, each phase i (i callers ahead) ending at rate n·μ + i·θ, unless their own
  patience (rate θ) runs out first. Conditioned on advancing, a phase lasts Exp(n·μ +
  (i + 1)·θ); so P(answered within T | j ahead) = Π a_i / (a_i + θ) × P(Σ Exp(a_i + θ) ≤ T),
  computed by uniformisation for every j at once.

θ = 0 is Erlang C (needs λ < n·μ); θ → ∞ tends to Erlang B. The tests check both limits
against published tables and the exact identities P(Ab) = θ·E[W] and Little's law.

Blended agents add one thing (`extra_rate`, γ): agents on outbound calls who finish one
while a caller waits take that caller (inbound has priority) and then go back to outbound.
They come back at a rate of their own, whatever the queue, so while callers wait (k > n) the
queue also moves at γ: down rate n·μ + γ + (k − n)·θ, and each phase of a waiting caller
ends at n·μ + γ + i·θ. With n = 0 and θ = 0 this is M/M/1 with service rate γ, whose
sojourn time is Exp(γ − λ): P(answered within T) = 1 − e^(−(γ − λ)·T) (tested).
"""

from __future__ import annotations

import dataclasses
import math

from dialer.core.search import first_true

TAIL_EPS = 1e-12  # stationary mass dropped past the truncation point


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class ErlangA:
    """Performance of one interval (all times in seconds, probabilities over offered calls)."""

    agents: int
    arrival_rate: float  # calls per second
    aht_s: float
    patience_s: float  # math.inf: nobody hangs up (Erlang C)
    p_wait: float  # P(a caller waits at all)
    p_abandon: float  # P(a caller hangs up before an agent answers)
    service_level: float  # P(answered within target_s)
    target_s: float
    asa_s: float  # average speed of answer of answered callers
    mean_wait_s: float  # E[W] over all callers (abandoned ones: until they hung up)
    occupancy: float  # busy agents ÷ agents


def _stationary(lam: float, mu: float, theta: float, n: int, extra: float = 0.0) -> list[float]:
    """π_k for k = 0..K, K where the tail mass falls below TAIL_EPS (normalised)."""
    if theta <= 0.0 and lam >= n * mu + extra:
        raise ValueError("with infinite patience the queue needs λ < n·μ + γ")
    weights = [1.0]
    total = 1.0
    k = 0
    scale_floor = 1e-300
    while True:
        k += 1
        down = min(k, n) * mu + max(k - n, 0) * theta + (extra if k > n else 0.0)
        w = weights[-1] * lam / down
        weights.append(w)
        total += w
        if w > 1e250:  # rescale to stay finite
            weights = [x / w for x in weights]
            total /= w
        if k > n and (w / total < TAIL_EPS or w < scale_floor):
            # past the peak the ratio lam/down < 1 keeps falling: the rest is smaller
            ratio = lam / (min(k + 1, n) * mu + max(k + 1 - n, 0) * theta + extra)
            if ratio < 1.0 and w / total / (1.0 - ratio) < TAIL_EPS:
                break
    return [w / total for w in weights]


def _served_within(
    n_mu: float, theta: float, jmax: int, target_s: float
) -> tuple[list[float], list[float], list[float]]:
    """For j = 0..jmax callers ahead: P(answered within target), P(answered ever) and
    E[wait · 1{answered}]."""
    ever: list[float] = []
    wait_if: list[float] = []
    p, mean = 1.0, 0.0
    for i in range(jmax + 1):
        a = n_mu + i * theta
        p *= a / (a + theta)
        mean += 1.0 / (a + theta)
        ever.append(p)
        wait_if.append(p * mean)
    # P(Σ_{i=0..j} Exp(c_i) ≤ T), c_i = n·μ + (i + 1)·θ, by uniformisation at rate Λ
    rates = [n_mu + (i + 1) * theta for i in range(jmax + 1)]
    big = max(rates)
    if big * target_s == 0.0:
        within = [0.0] * (jmax + 1)
    else:
        lt = big * target_s
        steps = int(lt + 10.0 * math.sqrt(lt) + 30)
        move = [c / big for c in rates]
        absorbed = [0.0] * (jmax + 1)  # G_j(m): absorbed within m jumps
        cdf = [0.0] * (jmax + 1)
        log_pois = -lt  # log Pois(0; lt)
        for m in range(1, steps + 1):
            nxt = [0.0] * (jmax + 1)
            prev_lower = 1.0  # G_{-1} = 1
            for j in range(jmax + 1):
                nxt[j] = move[j] * prev_lower + (1.0 - move[j]) * absorbed[j]
                prev_lower = absorbed[j]
            absorbed = nxt
            log_pois += math.log(lt) - math.log(m)
            weight = math.exp(log_pois)
            if weight > 0.0:
                for j in range(jmax + 1):
                    cdf[j] += weight * absorbed[j]
        within = cdf
    served = [ever[j] * within[j] for j in range(jmax + 1)]
    return served, ever, wait_if


def erlang_a(
    *,
    agents: int,
    arrival_rate: float,
    aht_s: float,
    patience_s: float,
    target_s: float,
    extra_rate: float = 0.0,
) -> ErlangA:
    """Steady-state performance of `agents` agents for calls arriving at `arrival_rate`/s
    (and, while callers wait, `extra_rate` outbound agents a second coming back to take
    one each)."""
    if (
        agents < 0
        or arrival_rate < 0
        or aht_s <= 0
        or patience_s <= 0
        or target_s < 0
        or extra_rate < 0
    ):
        raise ValueError("agents, rates and target must be >= 0; AHT and patience > 0")
    lam, mu = arrival_rate, 1.0 / aht_s
    theta = 0.0 if math.isinf(patience_s) else 1.0 / patience_s
    if lam == 0.0:
        return ErlangA(
            agents=agents,
            arrival_rate=0.0,
            aht_s=aht_s,
            patience_s=patience_s,
            p_wait=0.0,
            p_abandon=0.0,
            service_level=1.0,
            target_s=target_s,
            asa_s=0.0,
            mean_wait_s=0.0,
            occupancy=0.0,
        )
    if agents == 0 and extra_rate == 0.0:
        return ErlangA(
            agents=0,
            arrival_rate=lam,
            aht_s=aht_s,
            patience_s=patience_s,
            p_wait=1.0,
            p_abandon=1.0,
            service_level=0.0,
            target_s=target_s,
            asa_s=0.0,
            mean_wait_s=patience_s,
            occupancy=0.0,
        )
    n = agents
    pi = _stationary(lam, mu, theta, n, extra_rate)
    jmax = max(0, len(pi) - 1 - n)
    served, ever, wait_if = _served_within(n * mu + extra_rate, theta, jmax, target_s)
    p_wait = sum(pi[n:])
    queue = sum((k - n) * p for k, p in enumerate(pi) if k > n)
    busy = sum(min(k, n) * p for k, p in enumerate(pi))
    sl = sum(pi[:n]) + sum(pi[n + j] * served[j] for j in range(jmax + 1))
    answered = sum(pi[:n]) + sum(pi[n + j] * ever[j] for j in range(jmax + 1))
    wait_answered = sum(pi[n + j] * wait_if[j] for j in range(jmax + 1))
    return ErlangA(
        agents=n, arrival_rate=lam, aht_s=aht_s, patience_s=patience_s,
        p_wait=p_wait,
        p_abandon=max(0.0, 1.0 - answered),
        service_level=min(1.0, sl),
        target_s=target_s,
        asa_s=wait_answered / answered if answered > 0 else 0.0,
        mean_wait_s=queue / lam,
        occupancy=busy / n if n else 0.0,
    )  # fmt: skip


def agents_needed(
    *,
    arrival_rate: float,
    aht_s: float,
    patience_s: float,
    target_s: float = 20.0,
    service_level: float = 0.80,
    max_abandon: float | None = None,
    max_agents: int = 5000,
    outbound_agents: int = 0,
    outbound_cycle_s: float = math.inf,
) -> ErlangA:
    """The fewest agents whose service level reaches `service_level` (and whose abandon
    rate stays within `max_abandon` when given), with their figures.

    Blended: `outbound_agents` more may take a waiting caller as they finish an outbound
    call (one every `outbound_cycle_s` each: talk, wrap and the wait for an answer). Those
    kept for inbound, and those the inbound load itself keeps busy, are not on outbound:
    with n kept the stream is (outbound_agents − max(n, load)) / outbound_cycle_s."""
    if not 0.0 < service_level < 1.0:
        raise ValueError("service_level must be between 0 and 1")
    if outbound_agents < 0 or outbound_cycle_s <= 0:
        raise ValueError("outbound_agents must be >= 0 and outbound_cycle_s > 0")

    def level(n: int) -> ErlangA:
        on_outbound = max(0, outbound_agents - max(n, math.ceil(arrival_rate * aht_s)))
        extra = on_outbound / outbound_cycle_s if math.isfinite(outbound_cycle_s) else 0.0
        return erlang_a(
            agents=n,
            arrival_rate=arrival_rate,
            aht_s=aht_s,
            patience_s=patience_s,
            target_s=target_s,
            extra_rate=extra,
        )

    def enough(r: ErlangA) -> bool:
        return r.service_level >= service_level and (
            max_abandon is None or r.p_abandon <= max_abandon
        )

    if arrival_rate <= 0.0:
        return level(0)
    load = arrival_rate * aht_s

    def ok(n: int) -> bool:  # Erlang C has no steady state at or below the load
        return (not math.isinf(patience_s) or n > load) and enough(level(n))

    if outbound_agents and ok(0):  # the outbound agents' stream alone answers in time
        return level(0)
    # both figures improve with every agent added (one kept answers faster than one on
    # outbound comes back), so the fewest is found by doubling from the load, then halving
    fewest = first_true(ok, max_agents + 1, guess=math.ceil(load))
    if fewest > max_agents:
        raise ValueError(f"more than {max_agents} agents needed")
    return level(fewest)
