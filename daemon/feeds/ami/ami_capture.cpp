#include "feeds/ami/ami_capture.hpp"

#include <simdjson.h>


namespace callwatch::daemon {

bool is_ami_json_capture(std::string_view bytes) {
  for (char c : bytes) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
    return c == '[';
  }
  return false;
}

void replay_ami_text(std::string_view bytes, AmiFramer& framer, AmiTranslator& tr) {
  const double replay = metrics::kNoValue;  // time comes from the capture itself
  auto cb = [&](const AmiMessage& msg) { tr.on_message(msg, replay); };
  framer.feed(bytes, cb);
  framer.finish(cb);
}

bool replay_ami_json(std::string_view json, AmiTranslator& tr, std::string& error) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(json);
  simdjson::dom::element doc;
  if (auto err = parser.parse(padded).get(doc); err) {
    error = std::string("not JSON: ") + simdjson::error_message(err);
    return false;
  }
  simdjson::dom::array arr;
  if (doc.get_array().get(arr)) {
    error = "not a JSON array of AMI events";
    return false;
  }
  AmiMessage msg;
  std::vector<std::string> numbers;  // storage for non-string values turned to text
  for (simdjson::dom::element item : arr) {
    simdjson::dom::object obj;
    if (item.get_object().get(obj)) {
      error = "an array element is not an object";
      return false;
    }
    msg.headers.clear();
    msg.output.clear();
    numbers.clear();
    numbers.reserve(obj.size());
    // Classification is by the first header: put Event/Response first, as on the wire.
    std::string_view first_name, first_value;
    for (auto field : obj) {
      std::string_view v;
      if (field.value.get_string().get(v)) continue;
      if (iequals(field.key, "Event") || iequals(field.key, "Response")) {
        first_name = field.key;
        first_value = v;
        break;
      }
    }
    if (first_name.empty()) continue;
    msg.headers.push_back({first_name, first_value});
    for (auto field : obj) {
      if (field.key == first_name || field.key == "content") continue;
      std::string_view v;
      if (field.value.get_string().get(v)) {
        numbers.push_back(simdjson::to_string(field.value));
        v = numbers.back();
      }
      msg.headers.push_back({field.key, v});
    }
    msg.kind = iequals(first_name, "Event") ? AmiKind::event : AmiKind::response;
    tr.on_message(msg, metrics::kNoValue);
  }
  return true;
}

tl::expected<AmiTranslatorStats, std::string> replay_ami_texts(
    const std::vector<CaptureText>& inputs, const AmiTranslatorOptions& opts,
    const FeedSink& sink) {
  AmiTranslator tr(opts, sink);
  AmiFramer framer;
  auto cb = [&](const AmiMessage& msg) { tr.on_message(msg, metrics::kNoValue); };
  std::string storage;  // a JSON capture: one document, read whole
  for (const auto& in : inputs) {
    // The first bytes tell a JSON-array capture from a text one; text streams through the framer.
    bool decided = false, json = false;
    std::string head;
    auto take = [&](std::string_view bytes) {
      if (json) {
        storage.append(bytes);
      } else {
        framer.feed(bytes, cb);
      }
    };
    auto r = for_each_chunk(in, [&](std::string_view chunk) {
      if (decided) return take(chunk);
      head.append(chunk);
      const auto first = head.find_first_not_of(" \t\r\n");
      if (first == std::string::npos) return;  // only blanks so far
      decided = true;
      json = head[first] == '[';
      take(head);
      head.clear();
    });
    if (!r) return tl::unexpected(r.error());
    if (!decided && !head.empty()) framer.feed(head, cb);  // blank only
    if (json) {
      std::string err;
      if (!replay_ami_json(storage, tr, err)) return tl::unexpected(std::string(in.name) + ": " + err);
      storage.clear();
    } else {
      framer.finish(cb);
    }
  }
  tr.finish();
  return tr.stats();
}

tl::expected<AmiTranslatorStats, std::string> replay_ami_files(
    const std::vector<std::string>& files, const AmiTranslatorOptions& opts, const FeedSink& sink) {
  return replay_ami_texts(capture_files(files), opts, sink);
}

}  // namespace callwatch::daemon
