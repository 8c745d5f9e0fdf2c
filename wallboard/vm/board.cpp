#include "vm/board.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include "callwatch/metrics/alerts.hpp"
#include "callwatch/metrics/kpi.hpp"
#include "vm/glyphs.hpp"

namespace callwatch::wallboard::vm {

namespace {

using metrics::AgentState;
using metrics::QueueView;
using metrics::WindowKind;

const metrics::Window& window(const QueueView& q, WindowKind k) {
  return q.windows[static_cast<std::size_t>(k)];
}

std::optional<double> sl_of(const QueueView& q, const metrics::QueueCounters& c) {
  return metrics::service_level(c, q.settings.formula);
}

int agents_in(const QueueView& q, AgentState s) {
  return q.agents[static_cast<std::size_t>(s)];
}

Figure figure(std::string text, Color c, bool grey) {
  return Figure{std::move(text), grey ? greyed(c) : c};
}

std::string pct_target(Lang lang, const QueueView& q) {
  char buf[48];
  std::snprintf(buf, sizeof buf, " %.0f%% / %.0f ", q.settings.sl_target * 100.0,
                q.settings.sl_threshold);
  return std::string(text(lang, Str::target)) + buf + std::string(text(lang, Str::seconds_suffix));
}

std::string count_text(std::int64_t v) { return std::to_string(v); }

bool multi_site(const std::vector<SiteFeed>& sites) { return sites.size() > 1; }

bool is_grey(const SiteFeed& f, double now) {
  const auto st = link_state(f, now);
  return st == LinkState::disconnected || st == LinkState::incompatible;
}

Color severity_color(metrics::AlertSeverity s) {
  switch (s) {
    case metrics::AlertSeverity::critical: return palette::red;
    case metrics::AlertSeverity::warning: return palette::amber;
    case metrics::AlertSeverity::info: return palette::info;
  }
  return palette::amber;
}

HeaderVM build_header(const std::vector<SiteFeed>& sites, double now, const BoardOptions& opts) {
  HeaderVM h;
  h.clock = format_clock(now, opts.utc_offset_seconds);
  int waiting = 0, available = 0, on_call = 0, paused = 0;
  double longest = metrics::kNoValue, longest_t = 20;
  metrics::QueueCounters today;
  double target_weight = 0, target_sum = 0;
  bool grey = false, any = false;
  for (const auto& f : sites) {
    if (!f.state) continue;
    any = true;
    grey |= is_grey(f, now);
    for (const auto& q : f.state->queues) {
      waiting += q.calls_waiting;
      if (q.calls_waiting > 0 && metrics::has_value(q.longest_wait) &&
          (!metrics::has_value(longest) || q.longest_wait > longest)) {
        longest = q.longest_wait;
        longest_t = q.settings.sl_threshold;
      }
      const auto& c = window(q, WindowKind::today).counters;
      today.add(c);
      // The total's target: each queue's target weighted by its SL denominator today.
      const double denom = metrics::service_level_denominator(c, metrics::SlFormula::offered);
      target_sum += q.settings.sl_target * denom;
      target_weight += denom;
    }
    // Agents counted once each, not once per queue they serve.
    for (const auto& a : f.state->agents) {
      available += a.state == AgentState::available;
      on_call += a.state == AgentState::on_call;
      paused += a.state == AgentState::paused;
    }
  }
  auto num = [&](int v) { return any ? std::to_string(v) : std::string("–"); };
  // Before any data every figure is a grey dash: a colored "–" would still read as a status.
  auto c = [any](Color col) { return any ? col : palette::muted; };
  h.calls_waiting = figure(num(waiting), c(palette::text), grey);
  h.longest_wait = figure(format_duration(longest), c(wait_color(longest, longest_t)), grey);
  const auto sl = metrics::service_level(today, metrics::SlFormula::offered);
  const double target = target_weight > 0 ? target_sum / target_weight : 0.80;
  h.sl_today = figure(format_percent(sl), light_color(sl_light(sl, target)), grey);
  h.available = figure(num(available), c(palette::green), grey);
  h.on_call = figure(num(on_call), c(palette::info), grey);
  h.paused = figure(num(paused), c(palette::amber), grey);
  return h;
}

std::vector<AlertVM> build_alerts(const std::vector<SiteFeed>& sites, double now,
                                  const BoardOptions& opts) {
  // Alerts from a daemon that says what they measure (protocol 1.3) are worded here, in the
  // board's language and with the board's number formats; older ones show the daemon's message.
  struct Item {
    AlertVM vm;
    int severity;
    double since;
  };
  std::vector<Item> items;
  for (std::size_t si = 0; si < sites.size(); ++si) {
    const auto& f = sites[si];
    if (!f.state) continue;
    for (const auto& a : f.state->alerts) {
      if (a.state != metrics::AlertState::firing && a.state != metrics::AlertState::pending) {
        continue;
      }
      AlertVM vm;
      vm.id = a.id;
      if (multi_site(sites)) vm.text = site_label(f) + " · ";
      // A rule's message names its queue already (by display name); without one, say which.
      if (auto words = alert_text(opts.lang, a)) {
        vm.text += *words;
      } else if (a.message.empty()) {
        vm.text += a.queue.empty() ? a.rule : a.queue + ": " + a.rule;
      } else {
        vm.text += a.message;
      }
      vm.since = format_clock(a.since, opts.utc_offset_seconds);
      vm.color = severity_color(a.severity);
      if (a.state == metrics::AlertState::pending || a.acked) vm.color = palette::muted;
      if (is_grey(f, now)) vm.color = greyed(vm.color);  // last known, like the numbers
      vm.acked = a.acked;
      vm.acked_by = a.acked_by;
      if (a.acked) {
        vm.acked_text = fill(text(opts.lang, Str::acked_by), {a.acked_by});
        if (!a.ack_comment.empty()) vm.acked_text += " · " + a.ack_comment;
      }
      vm.site = si;
      const bool firing = a.state == metrics::AlertState::firing;
      vm.flashing = firing && !a.acked && !is_grey(f, now);
      vm.ack_enabled = opts.acks && firing && !a.acked && link_state(f, now) == LinkState::live;
      if (opts.acks) {
        if (const auto r = f.ack_replies.find(a.id); r != f.ack_replies.end()) {
          switch (r->second.kind) {
            case AckReply::Kind::sending:
              vm.ack_status = std::string(text(opts.lang, Str::ack_sending));
              vm.ack_status_color = palette::muted;
              break;
            case AckReply::Kind::accepted:
              vm.ack_status = std::string(text(opts.lang, Str::ack_accepted));
              vm.ack_status_color = palette::green;
              break;
            case AckReply::Kind::refused:
              vm.ack_status = fill(text(opts.lang, Str::ack_refused), {r->second.reason});
              vm.ack_status_color = palette::red;
              break;
          }
        }
      }
      items.push_back(Item{std::move(vm), static_cast<int>(a.severity), a.since});
    }
  }
  std::stable_sort(items.begin(), items.end(), [](const Item& x, const Item& y) {
    if (x.severity != y.severity) return x.severity > y.severity;
    return x.since < y.since;
  });
  std::vector<AlertVM> out;
  out.reserve(items.size());
  for (auto& it : items) out.push_back(std::move(it.vm));
  return out;
}

// Three-way compare of optional values with "no value" last in both directions.
template <typename T>
int cmp_opt(const std::optional<T>& a, const std::optional<T>& b, bool ascending, bool& decided) {
  decided = true;
  if (!a && !b) {
    decided = false;
    return 0;
  }
  if (!a) return 1;  // a after b
  if (!b) return -1;
  if (*a == *b) {
    decided = false;
    return 0;
  }
  return (*a < *b) == ascending ? -1 : 1;
}

std::optional<double> opt_nan(double v) {
  return std::isnan(v) ? std::nullopt : std::optional<double>(v);
}

const QueueView* find_queue(const metrics::Snapshot& s, std::string_view name) {
  auto it = std::lower_bound(s.queues.begin(), s.queues.end(), name,
                             [](const QueueView& q, std::string_view n) { return q.name < n; });
  return it != s.queues.end() && it->name == name ? &*it : nullptr;
}

// A daemon of 1.5 or later lists every caller or counts them as unlisted; one before sends no
// list: its callers are neither "not waiting" nor "not listed".
bool lists_callers(const QueueView& q) {
  return static_cast<int>(q.waiting_list.size()) + q.waiting_unlisted == q.calls_waiting;
}

std::string title_of(const QueueView& q) {
  return q.settings.display_name.empty() ? q.name : q.settings.display_name;
}

}  // namespace

WaiterVM make_waiter(const QueueView& q, const metrics::WaitingCaller& c, double engine_now,
                     bool grey, const BoardOptions& opts) {
  WaiterVM w;
  w.position = std::to_string(c.position);
  w.queue = title_of(q);
  w.caller = caller_text(c.caller, opts.callers, opts.lang);
  w.wait = std::max(0.0, engine_now - c.entered);
  w.wait_fig = figure(format_duration(w.wait), wait_color(w.wait, q.settings.sl_threshold), grey);
  if (!c.ringing.empty()) w.ringing = fill(text(opts.lang, Str::ringing_agent), {c.ringing});
  w.greyed = grey;
  return w;
}

Color wait_color(double longest_wait, double sl_threshold) {
  if (std::isnan(longest_wait) || std::isnan(sl_threshold) || sl_threshold <= 0) {
    return palette::text;
  }
  if (longest_wait >= sl_threshold) return palette::red;
  if (longest_wait >= 0.75 * sl_threshold) return palette::amber;
  return palette::text;
}

std::string agent_state_text(Lang lang, AgentState s) {
  switch (s) {
    case AgentState::logged_out: return std::string(text(lang, Str::logged_out));
    case AgentState::available: return std::string(text(lang, Str::available));
    case AgentState::ringing: return std::string(text(lang, Str::ringing));
    case AgentState::on_call: return std::string(text(lang, Str::on_call));
    case AgentState::wrap_up: return std::string(text(lang, Str::wrap_up));
    case AgentState::paused: return std::string(text(lang, Str::paused));
  }
  return {};
}

namespace {
// The tile of a 1080-line screen: its big numbers are 58 px (about 15 mm on a 55" screen,
// readable from 10 m), with the sparkline under them.
constexpr float kTileW = 440.0f, kTileH = 320.0f;
constexpr float kMinTileW = 350.0f, kMinTileH = 250.0f;
constexpr float kWaitersShare = 0.22f;  // of the width, for the longest-waiting panel
float waiters_width(float width, bool panel) { return panel ? std::floor(width * kWaitersShare) : 0.0f; }
}  // namespace

Grid kiosk_grid(float width, float height, float scale, bool waiters_panel) {
  // A page holds as many tiles as fit at 350 x 250 px (content at 0.8 of its size, numbers
  // still 46 px: readable across a room); fewer tiles grow (kiosk_layout). Header, alert strip
  // and banner take 300 px of the height at scale 1.
  const float min_w = kMinTileW * scale, min_h = kMinTileH * scale;
  const float chrome_h = 300.0f * scale;
  const float pad = 16.0f * scale;
  const float w = width - waiters_width(width, waiters_panel) - (waiters_panel ? pad : 0.0f);
  Grid g;
  g.cols = std::max(1, static_cast<int>(w / min_w));
  g.rows = std::max(1, static_cast<int>((height - chrome_h) / min_h));
  return g;
}

KioskLayout kiosk_layout(float width, float top, float bottom, float scale, int tiles,
                         bool waiters_panel) {
  KioskLayout l;
  const float pad = 16.0f * scale;
  const float panel_w = waiters_width(width, waiters_panel);
  const float area_w = width - panel_w - (waiters_panel ? pad : 0.0f);
  const float area_h = std::max(0.0f, bottom - top);
  if (waiters_panel) l.waiters = Rect{width - panel_w - pad, top, panel_w, area_h};
  if (tiles <= 0) return l;
  // Every column count; the one whose tiles hold the largest content wins (ties: fewer columns).
  float best = -1;
  for (int cols = 1; cols <= tiles; ++cols) {
    const int rows = (tiles + cols - 1) / cols;
    const float tw = (area_w - pad * static_cast<float>(cols + 1)) / static_cast<float>(cols);
    const float th = (area_h - pad * static_cast<float>(rows - 1)) / static_cast<float>(rows);
    const float fit = std::min(tw / (kTileW * scale), th / (kTileH * scale));
    if (fit > best + 1e-4f) {
      best = fit;
      l.cols = cols;
      l.rows = rows;
    }
  }
  const float tw = (area_w - pad * static_cast<float>(l.cols + 1)) / static_cast<float>(l.cols);
  const float th = (area_h - pad * static_cast<float>(l.rows - 1)) / static_cast<float>(l.rows);
  // Contents grow with the tile up to twice their size; bigger tiles get more room, not bigger type.
  l.content_scale = std::clamp(best, 0.6f, 2.0f);
  for (int i = 0; i < tiles; ++i) {
    const int r = i / l.cols, c = i % l.cols;
    l.tiles.push_back(Rect{pad + static_cast<float>(c) * (tw + pad), top + static_cast<float>(r) * (th + pad), tw, th});
  }
  return l;
}

std::string caller_text(std::string_view caller, CallerDisplay how, Lang lang) {
  if (how == CallerDisplay::hide) return "–";
  if (caller.empty()) return std::string(text(lang, Str::caller_withheld));
  if (how == CallerDisplay::show) return std::string(caller);
  // Mask: the last 4 characters stay (enough for a supervisor to tell two callers apart), every
  // one before them becomes '*'; 4 characters or fewer keep their second half only.
  // Characters, not bytes: a name in Chinese masks as whole characters.
  const std::size_t n = decode_utf8(caller).size();
  const std::size_t keep = n > 4 ? 4 : n / 2;
  std::size_t idx = 0;
  for (std::size_t chars = 0; idx < caller.size() && chars < n - keep; ++chars) {
    ++idx;
    while (idx < caller.size() && (static_cast<unsigned char>(caller[idx]) & 0xC0) == 0x80) ++idx;
  }
  return std::string(n - keep, '*') + std::string(caller.substr(idx));
}

TrendVM build_trend(const metrics::QueueView& q, Lang lang) {
  TrendVM t;
  for (int v : q.trend_arrivals) t.peak = std::max(t.peak, v);
  const float full = static_cast<float>(std::max(1, t.peak));
  for (int v : q.trend_arrivals) t.bars.push_back(static_cast<float>(v) / full);
  for (double v : q.trend_sl) t.sl.push_back(std::isnan(v) ? NAN : static_cast<float>(std::clamp(v, 0.0, 1.0)));
  if (!q.trend_arrivals.empty()) {
    t.label = std::string(text(lang, Str::calls_per_minute)) + " · " +
              fill(text(lang, Str::trend_peak), {std::to_string(t.peak)});
  }
  return t;
}

TimelineVM build_timeline(std::string_view agent, const std::vector<metrics::AgentSpan>& spans,
                          double day_start, double now, const BoardOptions& opts,
                          std::uint64_t cut) {
  TimelineVM v;
  v.title = fill(text(opts.lang, Str::timeline_of), {agent});
  // The bar starts at the whole hour before the agent's first state other than logged out (a
  // shift that starts at 09:00 is not drawn as a morning of nothing), at the day's start at most.
  // Less than an hour of states (a shift just begun, a daemon just started): from the 10 minutes
  // before, so the bar is not mostly empty.
  double start = day_start;
  for (const auto& s : spans) {
    if (s.state == metrics::AgentState::logged_out) continue;
    const double unit = now - s.from < 3600 ? 600.0 : 3600.0;
    const double local = s.from + opts.utc_offset_seconds;
    start = std::max(day_start, std::floor(local / unit) * unit - opts.utc_offset_seconds);
    break;
  }
  const double span = now - start;
  if (!(span > 0)) return v;
  auto at = [&](double t) {
    return static_cast<float>(std::clamp((t - start) / span, 0.0, 1.0));
  };
  for (std::size_t i = 0; i < spans.size(); ++i) {
    const auto& s = spans[i];
    // The last span runs on to now (the reply is a few seconds old by the time it is drawn).
    const double to = i + 1 == spans.size() ? std::max(s.to, now) : s.to;
    if (s.state == metrics::AgentState::logged_out || !(to > s.from)) continue;  // a gap in the bar
    TimelineSegment seg;
    seg.from = at(s.from);
    seg.to = at(to);
    seg.state = s.state;
    seg.color = agent_state_color(s.state);
    if (seg.to > seg.from) v.segments.push_back(seg);
    if (std::none_of(v.legend.begin(), v.legend.end(), [&](const auto& l) { return l.second == seg.color; })) {
      v.legend.emplace_back(agent_state_text(opts.lang, s.state), seg.color);
    }
  }
  // A time mark every 5, 10, 15, 30 minutes or 1, 2, 3, 6 hours: the first step giving at most 8.
  int step = 360;
  for (int st : {5, 10, 15, 30, 60, 120, 180, 360}) {
    if (span / (st * 60.0) <= 8) {
      step = st;
      break;
    }
  }
  const double step_s = step * 60.0;
  const double first = std::ceil((start + opts.utc_offset_seconds) / step_s) * step_s - opts.utc_offset_seconds;
  for (double t = first; t <= now; t += step_s) {
    v.tick_at.push_back(at(t));
    v.ticks.push_back(format_clock(t, opts.utc_offset_seconds).substr(0, 5));
  }
  if (cut > 0) v.cut_text = fill(text(opts.lang, Str::timeline_cut), {std::to_string(cut)});
  return v;
}

int page_at(double now, int items, int per_page, double period_seconds) {
  if (per_page <= 0 || items <= per_page) return 0;
  const int pages = (items + per_page - 1) / per_page;
  if (period_seconds <= 0) return 0;
  const auto tick = static_cast<long long>(std::floor(now / period_seconds));
  return static_cast<int>(((tick % pages) + pages) % pages);
}

std::vector<Banner> build_banners(const std::vector<SiteFeed>& sites, double now,
                                  const BoardOptions& opts) {
  std::vector<Banner> out;
  const Lang lang = opts.lang;
  for (const auto& f : sites) {
    const std::string label = site_label(f);
    const std::string prefix = multi_site(sites) ? label + ": " : std::string();
    auto stale_text = [&] {
      return fill(text(lang, Str::stale_since),
                  {format_clock(f.last_message_at, opts.utc_offset_seconds),
                   format_age(now - f.last_message_at, text(lang, Str::seconds_suffix))});
    };
    switch (link_state(f, now)) {
      case LinkState::live:
        break;
      case LinkState::waiting:
        out.push_back(Banner{Banner::Kind::waiting, fill(text(lang, Str::waiting_for), {label}),
                             palette::info});
        break;
      case LinkState::stale:
        out.push_back(Banner{Banner::Kind::stale, prefix + stale_text(), palette::banner_red});
        break;
      case LinkState::disconnected: {
        std::string t = fill(text(lang, Str::disconnected_from), {label});
        if (metrics::has_value(f.last_message_at)) t += " — " + stale_text();
        out.push_back(Banner{Banner::Kind::disconnected, std::move(t), palette::banner_red});
        break;
      }
      case LinkState::incompatible:
        out.push_back(Banner{
            Banner::Kind::incompatible,
            fill(text(lang, Str::newer_protocol),
                 {label, metrics::wire::to_string(*f.newer_protocol),
                  std::to_string(metrics::wire::kProtocolMajor) + ".x"}),
            palette::banner_red});
        break;
    }
  }
  auto rank = [](Banner::Kind k) {
    switch (k) {
      case Banner::Kind::incompatible: return 0;
      case Banner::Kind::disconnected: return 1;
      case Banner::Kind::stale: return 2;
      case Banner::Kind::waiting: return 3;
    }
    return 4;
  };
  std::stable_sort(out.begin(), out.end(),
                   [&](const Banner& a, const Banner& b) { return rank(a.kind) < rank(b.kind); });
  return out;
}

WaitingListVM build_longest_waiters(const std::vector<SiteFeed>& sites, double now,
                                   const BoardOptions& opts) {
  WaitingListVM v;
  v.title = std::string(text(opts.lang, Str::longest_waiting));
  v.empty_text = std::string(text(opts.lang, Str::no_caller_waiting));
  struct Item {
    double entered;
    WaiterVM w;
  };
  std::vector<Item> items;
  int waiting = 0;
  bool unlisted_queues = false;  // callers waiting in queues of a daemon that does not list them
  for (const auto& f : sites) {
    if (!f.state) continue;
    const bool grey = is_grey(f, now);
    const double en = engine_time(f, now);
    for (const auto& q : f.state->queues) {
      if (!lists_callers(q)) {
        unlisted_queues = true;
        continue;
      }
      waiting += q.calls_waiting;
      for (const auto& c : q.waiting_list) items.push_back(Item{c.entered, make_waiter(q, c, en, grey, opts)});
    }
  }
  if (unlisted_queues && items.empty()) v.empty_text = std::string(text(opts.lang, Str::callers_not_sent));
  // Longest wait first across every queue; equal entry times keep queue order.
  std::stable_sort(items.begin(), items.end(),
                   [](const Item& a, const Item& b) { return a.w.wait > b.w.wait; });
  const std::size_t n = std::min(items.size(), static_cast<std::size_t>(std::max(0, opts.kiosk_waiters)));
  for (std::size_t i = 0; i < n; ++i) v.rows.push_back(std::move(items[i].w));
  const int rest = waiting - static_cast<int>(v.rows.size());
  if (rest > 0) v.more_text = fill(text(opts.lang, Str::more_waiting), {std::to_string(rest)});
  return v;
}

KioskVM build_kiosk(const std::vector<SiteFeed>& sites, double now, const BoardOptions& opts,
                    int tiles_per_page) {
  KioskVM k;
  k.header = build_header(sites, now, opts);
  k.alerts = build_alerts(sites, now, opts);
  k.ticker = ticker_page(build_ticker(sites, now, opts.lang, opts.utc_offset_seconds), now, opts.page_seconds);
  k.banners = build_banners(sites, now, opts);
  const Lang lang = opts.lang;
  k.waiters = build_longest_waiters(sites, now, opts);
  if (opts.alarm) {
    // The first critical alert firing and not acknowledged (alerts come most severe first).
    for (std::size_t si = 0; si < sites.size() && !k.alarm; ++si) {
      const auto& f = sites[si];
      if (!f.state || is_grey(f, now)) continue;
      for (const auto& a : f.state->alerts) {
        if (a.severity != metrics::AlertSeverity::critical || a.state != metrics::AlertState::firing ||
            a.acked) {
          continue;
        }
        k.alarm = true;
        const auto words = alert_text(lang, a);
        k.alarm_text = fill(text(lang, Str::critical_alarm),
                            {words ? *words : (a.message.empty() ? a.rule : a.message)});
        k.alarm_key = std::to_string(si) + "/" + a.id + "/" + std::to_string(a.since);
        break;
      }
    }
  }

  // Tiles keep a fixed order (sites as given, queues by name) so people find their queue in
  // the same place every time; colors, not positions, say what needs attention.
  int total = 0;
  for (const auto& f : sites) {
    if (f.state) total += static_cast<int>(f.state->queues.size());
  }
  k.total_tiles = total;
  const int per_page = std::max(1, tiles_per_page);
  const int tile_pages = std::max(1, (total + per_page - 1) / per_page);
  // The leaderboard, when on, is one more page after the tiles' pages.
  k.page_count = tile_pages + (opts.leaderboard_page ? 1 : 0);
  k.page = page_at(now, k.page_count, 1, opts.page_seconds);
  if (k.page_count > 1) {
    k.page_text = fill(text(lang, Str::page),
                       {std::to_string(k.page + 1), std::to_string(k.page_count)});
  }
  if (opts.leaderboard_only) {
    k.page = 0;
    k.page_count = 1;
    k.page_text.clear();
    k.leaderboard = build_leaderboard(sites, now, opts);
    return k;
  }
  if (k.page >= tile_pages) {
    k.leaderboard = build_leaderboard(sites, now, opts);
    return k;
  }
  const int first = k.page * per_page, last = first + per_page;
  int index = 0;
  for (const auto& f : sites) {
    if (!f.state) continue;
    const bool grey = is_grey(f, now);
    for (const auto& q : f.state->queues) {
      const int i = index++;
      if (i < first || i >= last) continue;
      TileVM t;
      t.key = queue_key(f, q.name);
      t.title = q.settings.display_name.empty() ? q.name : q.settings.display_name;
      if (multi_site(sites)) t.site = site_label(f);
      t.waiting = figure(std::to_string(q.calls_waiting), palette::text, grey);
      t.longest_wait = figure(q.calls_waiting > 0 ? format_duration(q.longest_wait) : "–",
                              q.calls_waiting > 0
                                  ? wait_color(q.longest_wait, q.settings.sl_threshold)
                                  : palette::muted,
                              grey);
      const auto sli = sl_of(q, window(q, WindowKind::interval).counters);
      const auto slt = sl_of(q, window(q, WindowKind::today).counters);
      t.sl_interval = figure(format_percent(sli), light_color(sl_light(sli, q.settings.sl_target)),
                             grey);
      t.sl_today =
          figure(format_percent(slt), light_color(sl_light(slt, q.settings.sl_target)), grey);
      const int avail = agents_in(q, AgentState::available);
      Color ac = palette::green;
      if (avail == 0) ac = q.calls_waiting > 0 ? palette::red : palette::muted;
      t.available = figure(std::to_string(avail), ac, grey);
      t.target = pct_target(lang, q);
      // A caller joining now: red once it would miss the SL threshold, amber from 3/4 of it.
      t.estimated_wait = figure(format_duration(q.estimated_wait),
                                metrics::has_value(q.estimated_wait)
                                    ? wait_color(q.estimated_wait, q.settings.sl_threshold)
                                    : palette::muted,
                                grey);
      t.trend = build_trend(q, lang);
      t.greyed = grey;
      t.data_gap = q.data_gap;
      k.tiles.push_back(std::move(t));
    }
  }
  return k;
}

bool matches_filter(std::string_view text_, std::string_view filter) {
  if (filter.empty()) return true;
  auto lower = [](char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  };
  if (filter.size() > text_.size()) return false;
  for (std::size_t i = 0; i + filter.size() <= text_.size(); ++i) {
    bool ok = true;
    for (std::size_t j = 0; j < filter.size(); ++j) {
      if (lower(text_[i + j]) != lower(filter[j])) {
        ok = false;
        break;
      }
    }
    if (ok) return true;
  }
  return false;
}

void sort_queue_rows(std::vector<QueueRow>& rows, QueueColumn col, bool asc) {
  auto less = [col, asc](const QueueRow& a, const QueueRow& b) {
    bool decided = false;
    int c = 0;
    auto num = [&](auto x, auto y) {
      c = cmp_opt(std::optional<double>(static_cast<double>(x)),
                  std::optional<double>(static_cast<double>(y)), asc, decided);
    };
    auto str = [&](const std::string& x, const std::string& y) {
      decided = x != y;
      c = decided ? ((x < y) == asc ? -1 : 1) : 0;
    };
    switch (col) {
      case QueueColumn::site: str(a.site, b.site); break;
      case QueueColumn::name: str(a.title, b.title); break;
      case QueueColumn::waiting: num(a.waiting, b.waiting); break;
      case QueueColumn::longest_wait:
        c = cmp_opt(opt_nan(a.longest_wait), opt_nan(b.longest_wait), asc, decided);
        break;
      case QueueColumn::sl_interval: c = cmp_opt(a.sl_interval, b.sl_interval, asc, decided); break;
      case QueueColumn::sl_previous: c = cmp_opt(a.sl_previous, b.sl_previous, asc, decided); break;
      case QueueColumn::sl_today: c = cmp_opt(a.sl_today, b.sl_today, asc, decided); break;
      case QueueColumn::offered: num(a.offered, b.offered); break;
      case QueueColumn::answered: num(a.answered, b.answered); break;
      case QueueColumn::abandoned: num(a.abandoned, b.abandoned); break;
      case QueueColumn::abandon_rate:
        c = cmp_opt(a.abandon_rate, b.abandon_rate, asc, decided);
        break;
      case QueueColumn::asa: c = cmp_opt(a.asa, b.asa, asc, decided); break;
      case QueueColumn::aht: c = cmp_opt(a.aht, b.aht, asc, decided); break;
      case QueueColumn::required: c = cmp_opt(a.required, b.required, asc, decided); break;
      case QueueColumn::staffed: num(a.staffed, b.staffed); break;
      case QueueColumn::bounced: num(a.bounced, b.bounced); break;
      case QueueColumn::occupancy: c = cmp_opt(a.occupancy, b.occupancy, asc, decided); break;
      case QueueColumn::estimated_wait:
        c = cmp_opt(a.estimated_wait, b.estimated_wait, asc, decided);
        break;
      case QueueColumn::count_: break;
    }
    if (decided) return c < 0;
    if (a.site != b.site) return a.site < b.site;
    return a.name < b.name;
  };
  std::stable_sort(rows.begin(), rows.end(), less);
}

void sort_agent_rows(std::vector<AgentRow>& rows, AgentColumn col, bool asc) {
  auto less = [col, asc](const AgentRow& a, const AgentRow& b) {
    bool decided = false;
    int c = 0;
    auto num = [&](double x, double y) {
      c = cmp_opt(std::optional<double>(x), std::optional<double>(y), asc, decided);
    };
    auto str = [&](const std::string& x, const std::string& y) {
      decided = x != y;
      c = decided ? ((x < y) == asc ? -1 : 1) : 0;
    };
    switch (col) {
      case AgentColumn::site: str(a.site, b.site); break;
      case AgentColumn::name: str(a.name, b.name); break;
      case AgentColumn::state:
        num(static_cast<double>(a.state), static_cast<double>(b.state));
        break;
      case AgentColumn::time_in_state: num(a.time_in_state, b.time_in_state); break;
      case AgentColumn::pause_reason: str(a.pause_reason, b.pause_reason); break;
      case AgentColumn::answered:
        num(static_cast<double>(a.answered), static_cast<double>(b.answered));
        break;
      case AgentColumn::ring_no_answer:
        num(static_cast<double>(a.ring_noanswer), static_cast<double>(b.ring_noanswer));
        break;
      case AgentColumn::aht: c = cmp_opt(a.aht, b.aht, asc, decided); break;
      case AgentColumn::occupancy: c = cmp_opt(a.occupancy, b.occupancy, asc, decided); break;
      case AgentColumn::current_call:
        // By talk time; agents not on a call last in either direction.
        c = cmp_opt(a.call_text.empty() ? std::nullopt : std::optional<double>(a.talk),
                    b.call_text.empty() ? std::nullopt : std::optional<double>(b.talk), asc, decided);
        break;
      case AgentColumn::count_: break;
    }
    if (decided) return c < 0;
    if (a.site != b.site) return a.site < b.site;
    return a.name < b.name;
  };
  std::stable_sort(rows.begin(), rows.end(), less);
}

LeaderboardVM build_leaderboard(const std::vector<SiteFeed>& sites, double now,
                                const BoardOptions& opts) {
  const Lang lang = opts.lang;
  const LeaderboardOptions& lo = opts.leaders;
  const bool today = lo.window == LeaderWindow::today;
  const double min_in = today ? lo.min_logged_in_today : lo.min_logged_in_interval;
  LeaderboardVM v;
  v.title = std::string(text(lang, Str::leaderboard));
  const long min_minutes = std::lround(min_in / 60.0);
  v.rule_text = fill(text(lang, Str::leaderboard_rule),
                     {std::to_string(min_minutes) + " " + std::string(text(lang, Str::minutes_suffix))});
  std::vector<LeaderRow> rows;
  for (const auto& f : sites) {
    if (!f.state) continue;
    if (v.window_text.empty()) {
      const double since = today ? f.state->day_start : f.state->interval_start;
      if (since > 0) {
        v.window_text = fill(text(lang, today ? Str::window_today : Str::window_interval),
                             {format_clock(since, opts.utc_offset_seconds).substr(0, 5)});
      }
    }
    const bool grey = is_grey(f, now);
    for (const auto& a : f.state->agents) {
      const metrics::AgentCounters& c = today ? a.today : a.interval;
      const double in = c.logged_in_seconds();
      if (in <= 0 && c.handled == 0) continue;  // not seen in this window at all
      if (in < min_in) {
        ++v.left_out;
        continue;
      }
      LeaderRow r;
      r.site = multi_site(sites) ? site_label(f) : std::string();
      r.name = a.name;
      r.handled = c.handled;
      r.answered = c.answered;
      r.aht = metrics::agent_aht(c);
      r.occupancy = metrics::occupancy(c);
      r.logged_in = in;
      r.handled_text = count_text(r.handled);
      r.aht_text = format_duration(r.aht.value_or(metrics::kNoValue));
      r.occupancy_text = format_percent(r.occupancy);
      r.greyed = grey;
      rows.push_back(std::move(r));
    }
  }
  // More handled calls first; equal counts: the shorter AHT (none last); then site and name, so
  // rows keep their place between frames.
  std::sort(rows.begin(), rows.end(), [](const LeaderRow& a, const LeaderRow& b) {
    if (a.handled != b.handled) return a.handled > b.handled;
    if (a.aht.has_value() != b.aht.has_value()) return a.aht.has_value();
    if (a.aht && *a.aht != *b.aht) return *a.aht < *b.aht;
    if (a.site != b.site) return a.site < b.site;
    return a.name < b.name;
  });
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const bool tie = i > 0 && rows[i].handled == rows[i - 1].handled && rows[i].aht == rows[i - 1].aht;
    rows[i].rank = tie ? rows[i - 1].rank : static_cast<int>(i) + 1;
  }
  if (lo.max_rows > 0 && static_cast<int>(rows.size()) > lo.max_rows) rows.resize(lo.max_rows);
  v.rows = std::move(rows);
  if (v.left_out > 0)
    v.left_out_text = fill(text(lang, Str::leaderboard_left_out), {std::to_string(v.left_out)});
  return v;
}

WaitingListVM build_queue_waiting(const std::vector<SiteFeed>& sites, double now,
                                  const BoardOptions& opts, const DesktopQuery& query,
                                  std::vector<QueueRow>& rows) {
  WaitingListVM v;
  const Lang lang = opts.lang;
  v.empty_text = std::string(text(lang, Str::no_caller_waiting));
  // The queue picked by the user, while it is listed; else the one whose caller waits longest
  // (then the first row): the list is never empty for want of a click.
  QueueRow* pick = nullptr;
  for (auto& r : rows) {
    if (r.key == query.selected_queue) pick = &r;
  }
  if (!pick) {
    for (auto& r : rows) {
      if (r.waiting > 0 && (!pick || r.longest_wait > pick->longest_wait)) pick = &r;
    }
  }
  if (!pick && !rows.empty()) pick = &rows.front();
  if (!pick) return v;
  pick->selected = true;
  v.queue_key = pick->key;
  v.title = fill(text(lang, Str::waiting_in), {pick->title});
  for (const auto& f : sites) {
    if (!f.state) continue;
    for (const auto& q : f.state->queues) {
      if (queue_key(f, q.name) != pick->key) continue;
      const bool grey = is_grey(f, now);
      const double en = engine_time(f, now);
      for (const auto& c : q.waiting_list) v.rows.push_back(make_waiter(q, c, en, grey, opts));
      if (!lists_callers(q)) {
        v.empty_text = std::string(text(lang, Str::callers_not_sent));
      } else if (q.waiting_unlisted > 0) {
        v.more_text = fill(text(lang, Str::more_waiting), {std::to_string(q.waiting_unlisted)});
      }
      v.estimated_wait_text = fill(text(lang, Str::est_wait_new), {format_duration(q.estimated_wait)});
    }
  }
  return v;
}

DesktopVM build_desktop(const std::vector<SiteFeed>& sites, double now, const BoardOptions& opts,
                        const History& history, const DesktopQuery& query) {
  DesktopVM d;
  const Lang lang = opts.lang;
  d.header = build_header(sites, now, opts);
  d.alerts = build_alerts(sites, now, opts);
  d.broadcasts = build_ticker(sites, now, opts.lang, opts.utc_offset_seconds);
  d.can_broadcast = opts.acks;
  for (const auto& f : sites) {
    if (!f.broadcast_reply) continue;
    const AckReply& r = *f.broadcast_reply;
    d.broadcast_status = r.kind == AckReply::Kind::sending    ? std::string(text(opts.lang, Str::broadcast_sending))
                         : r.kind == AckReply::Kind::accepted ? std::string(text(opts.lang, Str::broadcast_sent))
                                                              : fill(text(opts.lang, Str::ack_refused), {r.reason});
    d.broadcast_status_color = r.kind == AckReply::Kind::refused ? palette::red : palette::muted;
    if (r.kind == AckReply::Kind::refused) break;  // a refusal says more than another site's "taken"
  }
  d.banners = build_banners(sites, now, opts);
  d.multi_site = multi_site(sites);
  for (const auto& f : sites) {
    if (!f.state) continue;
    if (d.interval_text.empty() && f.state->interval_start > 0) {
      d.interval_text = std::string(text(lang, Str::current_interval)) + " " +
                        format_clock(f.state->interval_start, opts.utc_offset_seconds).substr(0, 5);
    }
    const bool grey = is_grey(f, now);
    const std::string label = site_label(f);
    for (const auto& q : f.state->queues) {
      QueueRow r;
      r.key = queue_key(f, q.name);
      r.site = label;
      r.name = q.name;
      r.title = q.settings.display_name.empty() ? q.name : q.settings.display_name;
      if (!matches_filter(r.title, query.queue_filter) && !matches_filter(r.name, query.queue_filter) &&
          !(d.multi_site && matches_filter(r.site, query.queue_filter))) {
        continue;
      }
      const auto& today = window(q, WindowKind::today).counters;
      r.waiting = q.calls_waiting;
      r.longest_wait = q.calls_waiting > 0 ? q.longest_wait : metrics::kNoValue;
      r.sl_interval = sl_of(q, window(q, WindowKind::interval).counters);
      if (q.previous_interval) r.sl_previous = sl_of(q, q.previous_interval->counters);
      r.sl_today = sl_of(q, today);
      r.abandon_rate = metrics::abandon_rate(today);
      r.asa = metrics::asa(today);
      r.aht = metrics::aht(today);
      r.offered = today.offered();
      r.answered = today.answered;
      r.abandoned = today.abandoned;
      r.bounced = today.bounced;
      r.required = q.agents_required;
      r.staffing_gap = q.staffing_gap;
      r.staffed = q.staffed;
      r.available = agents_in(q, AgentState::available);
      r.occupancy = metrics::queue_occupancy(today);
      r.estimated_wait = opt_nan(q.estimated_wait);
      const double target = q.settings.sl_target;
      r.f_waiting = figure(std::to_string(r.waiting), palette::text, grey);
      r.f_longest_wait = figure(format_duration(r.longest_wait),
                                wait_color(r.longest_wait, q.settings.sl_threshold), grey);
      r.f_sl_interval =
          figure(format_percent(r.sl_interval), light_color(sl_light(r.sl_interval, target)), grey);
      r.f_sl_previous =
          figure(format_percent(r.sl_previous), light_color(sl_light(r.sl_previous, target)), grey);
      r.f_sl_today =
          figure(format_percent(r.sl_today), light_color(sl_light(r.sl_today, target)), grey);
      r.offered_text = count_text(r.offered);
      r.answered_text = count_text(r.answered);
      r.abandoned_text = count_text(r.abandoned);
      r.abandon_rate_text = format_percent(r.abandon_rate);
      r.asa_text = format_duration(r.asa.value_or(metrics::kNoValue));
      r.aht_text = format_duration(r.aht.value_or(metrics::kNoValue));
      r.required_text = r.required ? std::to_string(*r.required) : "–";
      r.staffed_text = std::to_string(r.staffed);
      r.bounced_text = count_text(r.bounced);
      r.occupancy_text = format_percent(r.occupancy);
      r.estimated_wait_text = format_duration(q.estimated_wait);
      r.required_color = r.staffing_gap.value_or(0) > 0 ? palette::red : palette::text;
      if (grey) r.required_color = greyed(r.required_color);
      r.history = history.find(r.key);
      r.greyed = grey;
      r.data_gap = q.data_gap;
      d.queues.push_back(std::move(r));
    }
    const double engine_now = engine_time(f, now);
    for (const auto& a : f.state->agents) {
      if (!matches_filter(a.name, query.agent_filter) &&
          !matches_filter(a.pause_reason, query.agent_filter) &&
          !(d.multi_site && matches_filter(label, query.agent_filter))) {
        continue;
      }
      AgentRow r;
      r.site = label;
      r.name = a.name;
      r.state = a.state;
      r.state_text = agent_state_text(lang, a.state);
      r.state_color = grey ? greyed(agent_state_color(a.state)) : agent_state_color(a.state);
      r.time_in_state = std::max(0.0, engine_now - a.state_since);
      r.time_text = format_duration(r.time_in_state);
      r.pause_reason = a.state == AgentState::paused ? a.pause_reason : std::string();
      r.answered = a.today.answered;
      r.ring_noanswer = a.today.ring_noanswer;
      r.aht = metrics::agent_aht(a.today);
      r.aht_text = format_duration(r.aht.value_or(metrics::kNoValue));
      r.occupancy = metrics::occupancy(a.today);
      r.occupancy_text = format_percent(r.occupancy);
      if (a.state == AgentState::on_call) {
        // Talk time is the time on the call (state_since is the answer); the caller as this
        // board shows callers, then the queue by its display name.
        r.talk = r.time_in_state;
        r.call_text = format_duration(r.talk);
        // A daemon before 1.5 does not say whom: the talk time alone, never "withheld".
        if (a.call_known) r.call_text += "  " + caller_text(a.call_caller, opts.callers, lang);
        if (!a.call_queue.empty()) {
          const QueueView* cq = find_queue(*f.state, a.call_queue);
          r.call_text += " · " + (cq ? title_of(*cq) : a.call_queue);
        }
      }
      r.site_index = static_cast<std::size_t>(&f - sites.data());
      r.selected = !query.selected_agent.empty() && a.name == query.selected_agent &&
                   r.site_index == query.selected_site;
      r.greyed = grey;
      d.agents.push_back(std::move(r));
    }
  }
  sort_queue_rows(d.queues, query.queue_sort, query.queue_ascending);
  sort_agent_rows(d.agents, query.agent_sort, query.agent_ascending);
  d.waiting = build_queue_waiting(sites, now, opts, query, d.queues);
  d.timeline.status = std::string(text(lang, Str::timeline_hint));
  if (!query.selected_agent.empty() && query.selected_site < sites.size()) {
    const SiteFeed& f = sites[query.selected_site];
    const AgentHistory& h = f.agent_history;
    d.timeline.title = fill(text(lang, Str::timeline_of), {query.selected_agent});
    if (h.agent != query.selected_agent || h.kind == AgentHistory::Kind::loading ||
        h.kind == AgentHistory::Kind::none) {
      d.timeline.status = std::string(text(lang, Str::timeline_loading));
    } else if (h.kind == AgentHistory::Kind::unavailable) {
      d.timeline.status = fill(text(lang, Str::timeline_unavailable), {h.reason});
    } else {
      const double day = h.since > 0 ? h.since : (f.state ? f.state->day_start : 0);
      d.timeline = build_timeline(query.selected_agent, h.spans, day, engine_time(f, now), opts, h.cut);
    }
  }
  BoardOptions lo = opts;
  lo.leaders.window = LeaderWindow::today;
  d.leaders_today = build_leaderboard(sites, now, lo);
  lo.leaders.window = LeaderWindow::interval;
  d.leaders_interval = build_leaderboard(sites, now, lo);
  return d;
}

std::optional<std::string> alert_text(Lang lang, const metrics::AlertView& a) {
  using metrics::AlertMetric;
  AlertMetric m{};
  if (a.metric.empty() || !metrics::parse_alert_metric(a.metric, m)) return std::nullopt;
  auto number = [&](double v) -> std::string {
    switch (m) {
      case AlertMetric::service_level:
      case AlertMetric::abandon_rate: return format_percent(v);
      case AlertMetric::longest_wait:
      case AlertMetric::feed_stale: return format_duration(v);
      case AlertMetric::surge_ratio: {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.2f×", v);
        return buf;
      }
      default: return std::to_string(static_cast<long long>(std::llround(v)));
    }
  };
  const std::string limit =
      fill(text(lang, a.above ? Str::alert_above : Str::alert_below), {number(a.threshold)});
  if (m == AlertMetric::feed_stale) {
    if (!metrics::has_value(a.value) || a.value >= 1e9) return fill(text(lang, Str::alert_feed_never), {a.subject});
    return fill(text(lang, Str::alert_feed_stale), {a.subject, number(a.value), limit});
  }
  Str reading = Str::alert_calls_waiting;
  switch (m) {
    case AlertMetric::longest_wait: reading = Str::alert_longest_wait; break;
    case AlertMetric::calls_waiting: reading = Str::alert_calls_waiting; break;
    case AlertMetric::service_level: reading = Str::alert_service_level; break;
    case AlertMetric::abandon_rate: reading = Str::alert_abandon_rate; break;
    case AlertMetric::agents_available: reading = Str::alert_agents_available; break;
    case AlertMetric::surge_ratio: reading = Str::alert_surge; break;
    case AlertMetric::bounced_calls: reading = Str::alert_bounced; break;
    case AlertMetric::feed_stale: break;
  }
  const std::string value = metrics::has_value(a.value) ? fill(text(lang, reading), {number(a.value)})
                                                          : std::string(text(lang, Str::alert_no_data));
  std::string out = fill(text(lang, Str::alert_compose),
                         {a.subject.empty() ? a.queue : a.subject, value, limit});
  if (a.agents_needed && *a.agents_needed > 0) {
    out += fill(text(lang, Str::alert_agents_needed), {std::to_string(*a.agents_needed)});
  }
  return out;
}

}  // namespace callwatch::wallboard::vm
