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

// Erlang A (M/M/m+M): exponential patience with rate theta = 1/patience. The number in system
// is a birth-death chain (births lambda, deaths min(n,m)*mu + max(0,n-m)*theta); an arriving
// caller sees its stationary distribution. A caller with j callers ahead leaves state j towards
// service at rate r_j = m*mu + j*theta and abandons at rate theta, so with u_j(t) = P(served within
// t | j ahead): du_j/dt = r_j*u_{j-1} - (r_j + theta)*u_j, u_{-1} = 1, u_j(0) = 0 (solved with RK4).
// Holding times do not depend on which exit is taken (competing exponentials), which gives the
// mean wait of answered callers in closed form.
ErlangPoint erlang_a_point(int agents, double lambda, double aht, double threshold,
                           double patience) {
  ErlangPoint p;
  p.agents = agents;
  if (!(lambda > 0)) {
    p.service_level = 1.0;
    p.p_wait = 0.0;
    p.asa_seconds = 0.0;
    p.occupancy = 0.0;
    return p;
  }
  if (agents <= 0 || !(aht > 0) || !(patience > 0)) {
    p.service_level = 0.0;
    p.asa_seconds = std::numeric_limits<double>::infinity();
    return p;
  }
  const double mu = 1.0 / aht;
  const double theta = 1.0 / patience;
  std::vector<double> pi{1.0};
  double total = 1.0;
  for (int n = 1;; ++n) {
    const double death = std::min(n, agents) * mu + std::max(0, n - agents) * theta;
    const double next = pi.back() * lambda / death;
    pi.push_back(next);
    total += next;
    if ((n > agents && next < 1e-15 * total) || n > agents + 200000) break;
  }
  for (double& v : pi) v /= total;
  const int max_ahead = std::max(0, static_cast<int>(pi.size()) - 1 - agents);
  const std::size_t J = static_cast<std::size_t>(max_ahead) + 1;
  auto rate = [&](std::size_t j) { return agents * mu + static_cast<double>(j) * theta; };

  // u_j(T) by RK4.
  std::vector<double> u(J, 0.0), k1(J), k2(J), k3(J), k4(J), tmp(J);
  auto deriv = [&](const std::vector<double>& x, std::vector<double>& d) {
    for (std::size_t j = 0; j < J; ++j) {
      const double prev = j == 0 ? 1.0 : x[j - 1];
      d[j] = rate(j) * prev - (rate(j) + theta) * x[j];
    }
  };
  const double fastest = rate(J - 1) + theta;
  const int steps = std::max(100, static_cast<int>(std::ceil(threshold * fastest * 2)));
  const double dt = threshold / steps;
  for (int s = 0; s < steps && threshold > 0; ++s) {
    deriv(u, k1);
    for (std::size_t j = 0; j < J; ++j) tmp[j] = u[j] + 0.5 * dt * k1[j];
    deriv(tmp, k2);
    for (std::size_t j = 0; j < J; ++j) tmp[j] = u[j] + 0.5 * dt * k2[j];
    deriv(tmp, k3);
    for (std::size_t j = 0; j < J; ++j) tmp[j] = u[j] + dt * k3[j];
    deriv(tmp, k4);
    for (std::size_t j = 0; j < J; ++j) u[j] += dt / 6 * (k1[j] + 2 * k2[j] + 2 * k3[j] + k4[j]);
  }

  double p_wait = 0, served_within = 0, served_ever = 0, wait_served = 0;
  double reach = 1.0, mean_hold = 0.0;  // along j = 0, 1, 2...: P(served | j), sum of 1/(r+theta)
  for (std::size_t j = 0; j < J; ++j) {
    reach *= rate(j) / (rate(j) + theta);
    mean_hold += 1.0 / (rate(j) + theta);
    const double w = pi[static_cast<std::size_t>(agents) + j];
    p_wait += w;
    served_within += w * u[j];
    served_ever += w * reach;
    wait_served += w * reach * mean_hold;
  }
  const double p_nowait = 1.0 - p_wait;
  p.p_wait = p_wait;
  p.service_level = p_nowait + served_within;
  const double answered = p_nowait + served_ever;
  p.asa_seconds = answered > 0 ? wait_served / answered : 0.0;
  p.occupancy = std::min(1.0, lambda * answered * aht / agents);
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
