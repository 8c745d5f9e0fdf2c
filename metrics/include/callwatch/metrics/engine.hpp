// The engine: one owner of all live state. Feeds hand it events; it keeps calls, visits, queues
// and agents as state machines and the interval windows of METRICS.md. Single-threaded by design.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "callwatch/metrics/clock.hpp"
#include "callwatch/metrics/event.hpp"
#include "callwatch/metrics/settings.hpp"
#include "callwatch/metrics/snapshot.hpp"

namespace callwatch::metrics {

enum class ApplyResult : std::uint8_t {
  applied,
  ignored_duplicate,  // second outcome / completion for a visit: ignored, warned
  ignored_unknown,    // refers to nothing known and carries nothing countable: warned
};

class Engine {
 public:
  // clock == nullptr: replay mode, time follows the largest event timestamp seen.
  // Otherwise live mode: time follows the clock; event times still give waits and talk.
  explicit Engine(EngineSettings settings, const Clock* clock = nullptr);
  ~Engine();
  Engine(Engine&&) noexcept;
  Engine& operator=(Engine&&) noexcept;

  ApplyResult apply(const Event& e);
  // Makes a configured queue known before its first event, so boards and /metrics list it from
  // the start (with zeros and "no data" ratios). Idempotent.
  void declare_queue(std::string_view name);
  // Let time pass: closes intervals, rolls the day, ages sliding windows.
  void advance_to(double now);
  // Replay end: open spans (pauses, states) count up to `end` (the input's last timestamp).
  void finish(double end);

  double now() const;
  Snapshot snapshot() const;
  const std::vector<ClosedInterval>& closed_intervals() const;
  DataQuality& data_quality();
  const DataQuality& data_quality() const;
  const EngineSettings& settings() const;
  std::uint64_t version() const;  // bumps on every applied event or rollover
  // Finished calls remembered today (repeats of them are duplicates) and the memory they take.
  std::size_t finished_calls() const;
  std::size_t finished_call_bytes() const;

  // Record a warning (feeds and parsers use this too): counted by kind, message kept (capped).
  void warn(std::string_view kind, std::string message);

  // Whole state as text, and back (for persistence). Round-trips exactly. Settings are not part
  // of the state: restore keeps this engine's settings. Returns false (state unchanged) on a
  // corrupt or foreign input.
  std::string serialize() const;
  bool restore(std::string_view data);

  // The day's finished calls grow all day (a busy day: millions), so a store that checkpoints
  // every few seconds keeps them apart: with rows on, serialize() leaves them out and the engine
  // keeps each one finished since the last take_finished_rows() for the store to append (O(new
  // calls) per checkpoint, not O(day)). Off (default): serialize() holds them, as before.
  struct FinishedRow {
    double day = 0;                     // the engine's day_start when it finished
    std::uint64_t key = 0;              // the call id's hash
    std::vector<std::uint32_t> queues;  // the queues it may not enter again (engine ids)
    bool operator==(const FinishedRow&) const = default;
  };
  // Turning rows on hands out what is held already with the next take_finished_rows().
  void set_finished_rows(bool on);
  std::vector<FinishedRow> take_finished_rows();
  // After restore(): the rows the store kept; those of another day than the state's are skipped.
  // Returns how many were taken.
  std::size_t restore_finished_rows(const std::vector<FinishedRow>& rows);
  double day_start() const;
  // Records that nothing was received from `from` to `to` (daemon down, feed gap): every number
  // of today carries the data-quality flag and a warning says when.
  void note_gap(double from, double to);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace callwatch::metrics
