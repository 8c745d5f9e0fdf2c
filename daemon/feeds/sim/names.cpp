// Queue and agent names of the simulated floor: CJK and Latin scripts mixed on purpose, because
// every layer (JSON, label escaping, fonts, column widths) must cope with both.
#include <array>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "feeds/sim/simulator.hpp"

namespace callwatch::daemon::sim {

namespace {

struct QueueName {
  std::string_view name;
  std::string_view display;
};

// Order matters: --queues N takes the first N, so small demos get the most typical mix.
constexpr std::array<QueueName, 12> kQueues = {{
    {"sales", "销售 Sales"},
    {"support", "支持 Support"},
    {"技术支持", "技术支持 Tech Support"},
    {"billing", "账务 Billing"},
    {"VIP客户", "VIP客户 VIP"},
    {"retention", "挽留 Retention"},
    {"售后服务", "售后服务 After-sales"},
    {"onboarding", "开户 Onboarding"},
    {"投诉", "投诉 Complaints"},
    {"renewals", "续约 Renewals"},
    {"ventas", "Ventas (ES)"},
    {"订单查询", "订单查询 Orders"},
}};

constexpr std::array<std::string_view, 16> kLatinAgents = {
    "Li Wei",      "Ana Prueba",   "Maria Garcia", "John Smith",    "Fatima Zahra", "Chen Jie",
    "Sophie Martin", "Lukas Müller", "Zhang Min",  "Olga Ivanova",  "Kenji Sato",   "Amara Okafor",
    "José Álvarez", "Nguyen Van An", "Emma Wilson", "Wang Lei"};
constexpr std::array<std::string_view, 16> kChineseAgents = {
    "王芳", "李娜", "张伟", "刘洋", "陈静", "杨磊", "赵敏", "黄丽",
    "周杰", "吴霞", "徐明", "孙悦", "马超", "朱琳", "胡斌", "郭蕾"};
constexpr std::array<std::string_view, 20> kSurnames = {"王", "李", "张", "刘", "陈", "杨", "赵",
                                                        "黄", "周", "吴", "徐", "孙", "马", "朱",
                                                        "胡", "郭", "何", "高", "林", "罗"};
// Generated names start with given names the fixed list does not use, so clashes are rare.
constexpr std::array<std::string_view, 20> kGiven = {"强", "婷", "鹏", "艳", "芳", "娜", "伟",
                                                     "洋", "静", "磊", "敏", "丽", "杰", "霞",
                                                     "明", "悦", "超", "琳", "斌", "蕾"};
constexpr std::array<std::string_view, 12> kFirst = {"Ana", "Ben", "Carla", "David", "Elena", "Farid",
                                                     "Grace", "Hugo", "Ines", "Jonas", "Kai", "Lena"};
constexpr std::array<std::string_view, 12> kLast = {"Okoro", "Prueba", "Rossi", "Kim", "Novak", "Haddad",
                                                    "Silva", "Berg", "Dubois", "Park", "Weber", "Costa"};

}  // namespace

std::vector<std::string> Simulator::make_queue_names(int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) {
    if (i < static_cast<int>(kQueues.size())) {
      out.emplace_back(kQueues[i].name);
    } else if (i % 2 == 0) {
      out.push_back(fmt::format("queue-{:03d}", i + 1));
    } else {
      out.push_back(fmt::format("队列{:03d}", i + 1));
    }
  }
  return out;
}

std::vector<std::string> Simulator::make_queue_display_names(int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) {
    if (i < static_cast<int>(kQueues.size())) {
      out.emplace_back(kQueues[i].display);
    } else if (i % 2 == 0) {
      out.push_back(fmt::format("Queue {:03d}", i + 1));
    } else {
      out.push_back(fmt::format("队列 {:03d} Queue", i + 1));
    }
  }
  return out;
}

std::vector<std::string> Simulator::make_agent_names(int n) {
  std::vector<std::string> out;
  std::set<std::string, std::less<>> seen;
  out.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    // Three spellings in turn: a Latin name, a Chinese name, an extension-style id (how many PBXs
    // name members). Fixed by index, not by seed, so a config can refer to them.
    const int k = i / 3;
    std::string name;
    switch (i % 3) {
      case 0:
        if (k < static_cast<int>(kLatinAgents.size())) {
          name = kLatinAgents[k];
        } else {
          const int j = k - static_cast<int>(kLatinAgents.size());
          const int combos = static_cast<int>(kFirst.size() * kLast.size());
          const int first = j % static_cast<int>(kFirst.size());
          const int last = (j / static_cast<int>(kFirst.size())) % static_cast<int>(kLast.size());
          if (j < combos) {
            name = fmt::format("{} {}", kFirst[first], kLast[last]);
          } else {  // a middle initial, as rosters do: 26 x 144 more
            name = fmt::format("{} {}. {}", kFirst[first], static_cast<char>('A' + (j / combos - 1) % 26),
                               kLast[last]);
          }
        }
        break;
      case 1:
        if (k < static_cast<int>(kChineseAgents.size())) {
          name = kChineseAgents[k];
        } else {
          const int j = k - static_cast<int>(kChineseAgents.size());
          const int ns = static_cast<int>(kSurnames.size());
          const int ng = static_cast<int>(kGiven.size());
          if (j < ns * ng) {
            name = fmt::format("{}{}", kSurnames[j % ns], kGiven[(j / ns) % ng]);
          } else {  // two-character given names: 20 x 20 x 20 more
            const int m = j - ns * ng;
            name = fmt::format("{}{}{}", kSurnames[m % ns], kGiven[(m / ns) % ng], kGiven[(m / (ns * ng)) % ng]);
          }
        }
        break;
      default:
        name = fmt::format("agent-{:04d}", i + 1);
        break;
    }
    // Real floors have two 王芳: the PBX tells them apart with a suffix.
    if (seen.contains(name)) {
      const std::string base = name;
      for (int d = 2; seen.contains(name); ++d) name = fmt::format("{} ({})", base, d);
    }
    seen.insert(name);
    out.push_back(std::move(name));
  }
  return out;
}

}  // namespace callwatch::daemon::sim
