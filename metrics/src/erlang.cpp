#include "callwatch/metrics/erlang.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace callwatch::metrics {

double erlang_b(int agents, double load) {
  // B(0) = 1; B(k) = A*B(k-1) / (k + A*B(k-1)): stable for any m, no factorials.
  double b = 1.0;
  for (int k = 1; k <= agents; ++k) b = load * b / (k + load * b);
  return b;
}

double erlang_c(int agents, double load) {
  if (agents <= 0 || load >= agents) return 1.0;
  if (load <= 0) return 0.0;
  const double b = erlang_b(agents, load);
  return agents * b / (agents - load * (1.0 - b));
}

ErlangPoint erlang_c_point(int agents, double lambda, double aht, double threshold) {
  ErlangPoint p;
  p.agents = agents;
  const double load = lambda * aht;
  p.p_wait = erlang_c(agents, load);
  if (agents > load && agents > 0) {
    p.service_level = 1.0 - p.p_wait * std::exp(-(agents - load) * threshold / aht);
    p.asa_seconds = p.p_wait * aht / (agents - load);
    p.occupancy = load / agents;
  } else {
    p.service_level = 0.0;
    p.asa_seconds = std::numeric_limits<double>::infinity();
    p.occupancy = 1.0;
  }
  return p;
}

std::optional<int> agents_required(double lambda, double aht, double threshold, double target) {
  if (!(lambda >= 0) || !(aht > 0) || !(threshold >= 0) || !(target > 0) || !(target < 1)) {
    return std::nullopt;
  }
  if (lambda == 0) return 0;
  const double load = lambda * aht;
  int m = std::max(1, static_cast<int>(std::floor(load)) + 1);
  for (; m < 1000000; ++m) {
    if (erlang_c_point(m, lambda, aht, threshold).service_level >= target) return m;
  }
  return std::nullopt;
}

// Erlang A (Palm/M/M/m+M) from the birth-death chain: states n = 0..N, birth lambda, death
// min(n,m)*mu + max(0,n-m)*theta. The waiting-time tail P(W > t) for a caller who finds n >= m
// in system is a sum of exponential phases; we evaluate it numerically by uniformization-free
// integration over the abandonment-free service of the queue ahead, which is exact for the
// exponential model: a caller at queue position j (0-based) must see j+1 departures from
// {service completions at rate m*mu, abandonments ahead at rate k*theta}.
ErlangPoint erlang_a_point(int agents, double lambda, double aht, double threshold,
                           double patience) {
  ErlangPoint p;
  p.agents = agents;
  if (agents <= 0 || lambda <= 0 || aht <= 0 || patience <= 0) {
    p.service_level = lambda <= 0 ? 1.0 : 0.0;
    p.p_wait = lambda <= 0 ? 0.0 : 1.0;
    return p;
  }
  const double mu = 1.0 / aht;
  const double theta = 1.0 / patience;
  // Stationary distribution, truncated where the tail is negligible.
  std::vector<double> pi;
  pi.push_back(1.0);
  double total = 1.0;
  for (int n = 1; n < agents + 5000; ++n) {
    const double death = std::min(n, agents) * mu + std::max(0, n - agents) * theta;
    const double next = pi.back() * lambda / death;
    pi.push_back(next);
    total += next;
    if (n > agents && next < 1e-16 * total) break;
  }
  for (double& v : pi) v /= total;
  double p_wait = 0;
  for (std::size_t n = static_cast<std::size_t>(agents); n < pi.size(); ++n) p_wait += pi[n];
  // P(answered within T) for an arriving caller who finds n >= m: the caller needs n-m+1
  // departures from the queue ahead (rates m*mu + k*theta with k callers ahead still waiting),
  // before both T and its own patience run out. Compute P(served by T) by a small ODE on the
  // number of callers still ahead, with the caller's own abandonment as a competing exit.
  double served_in_t = 0, served_ever = 0, waited = 0;
  const int steps = 400;
  const double dt = threshold / steps;
  for (std::size_t n = static_cast<std::size_t>(agents); n < pi.size(); ++n) {
    const int ahead = static_cast<int>(n) - agents;  // callers ahead in the queue
    if (pi[n] < 1e-14) continue;
    // prob[j] = probability that j callers are still ahead and our caller still waits.
    std::vector<double> prob(static_cast<std::size_t>(ahead) + 1, 0.0);
    prob[static_cast<std::size_t>(ahead)] = 1.0;
    double served = 0;
    for (int s = 0; s < steps; ++s) {
      std::vector<double> d(prob.size(), 0.0);
      for (std::size_t j = 0; j < prob.size(); ++j) {
        const double out = agents * mu + static_cast<double>(j) * theta;
        d[j] -= (out + theta) * prob[j];
        if (j > 0) d[j - 1] += out * prob[j];
        else served += out * prob[j] * dt;
      }
      for (std::size_t j = 0; j < prob.size(); ++j) prob[j] += d[j] * dt;
    }
    // Served ever (for ASA-like figures): P(reach the front before abandoning) approximately.
    double reach = 1.0;
    for (int j = ahead; j >= 0; --j) {
      const double out = agents * mu + j * theta;
      reach *= out / (out + theta);
    }
    served_in_t += pi[n] * served;
    served_ever += pi[n] * reach;
    waited += pi[n];
  }
  // SL over callers that were answered or abandoned: the no-wait callers are answered at once.
  const double p_nowait = 1.0 - p_wait;
  p.p_wait = p_wait;
  p.service_level = p_nowait + served_in_t;
  p.asa_seconds = 0;  // not derived in closed form for Erlang A here
  p.occupancy = std::min(1.0, lambda * (p_nowait + served_ever) * aht / agents);
  (void)waited;
  return p;
}

std::optional<int> agents_required_erlang_a(double lambda, double aht, double threshold,
                                            double target, double patience) {
  if (!(lambda >= 0) || !(aht > 0) || !(threshold >= 0) || !(target > 0) || !(target < 1) ||
      !(patience > 0)) {
    return std::nullopt;
  }
  if (lambda == 0) return 0;
  for (int m = 1; m < 100000; ++m) {
    if (erlang_a_point(m, lambda, aht, threshold, patience).service_level >= target) return m;
  }
  return std::nullopt;
}

}  // namespace callwatch::metrics
