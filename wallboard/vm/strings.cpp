// String table: one row per Str, English then Chinese. Placeholders in braces are filled by vm/.
#include "vm/strings.hpp"

#include <array>

namespace callwatch::wallboard::vm {

namespace {

struct Row {
  std::string_view en;
  std::string_view zh;
};

constexpr std::array<Row, static_cast<std::size_t>(Str::count_)> kRows{{
    {"callwatch", "callwatch 呼叫监控"},
    {"Calls waiting", "排队来电"},
    {"Longest wait", "最长等待"},
    {"Service level today", "今日服务水平"},
    {"SL interval", "本时段服务水平"},
    {"SL", "服务水平"},
    {"SL previous", "上一时段服务水平"},
    {"SL today", "今日服务水平"},
    {"Agents available", "空闲座席"},
    {"Available", "空闲"},
    {"On call", "通话中"},
    {"Paused", "暂停"},
    {"Ringing", "振铃"},
    {"Wrap-up", "话后处理"},
    {"Logged out", "已登出"},
    {"Page {} / {}", "第 {} / {} 页"},
    {"Alerts", "告警"},
    {"No active alerts", "无活动告警"},
    {"Acknowledge", "确认"},
    {"Queues", "队列"},
    {"Agents", "座席"},
    {"Filter", "筛选"},
    {"Queue", "队列"},
    {"Site", "站点"},
    {"Waiting", "排队"},
    {"Offered", "呼入"},
    {"Answered", "接听"},
    {"Abandoned", "放弃"},
    {"Abandon %", "放弃率"},
    {"ASA", "平均应答"},
    {"AHT", "平均处理"},
    {"Required", "需求座席"},
    {"Staffed", "在岗座席"},
    {"Bounced", "多次转接"},
    {"Occupancy", "占用率"},
    {"Est. wait", "预计等待"},
    {"Current interval", "当前时段"},
    {"Previous interval", "上一时段"},
    {"State", "状态"},
    {"Time in state", "状态时长"},
    {"Pause reason", "暂停原因"},
    {"Ring no answer", "振铃未接"},
    {"Last hour", "近一小时"},
    {"target", "目标"},
    {"data stale since {} ({})", "数据已过期：自 {} 起无更新 ({})"},
    {"disconnected from {}", "与 {} 的连接已断开"},
    {"waiting for data from {}", "正在等待 {} 的数据"},
    {"{} speaks protocol {}; this wallboard understands {}: update the wallboard",
     "{} 使用协议 {}，本看板仅支持 {}：请升级看板"},
    {"s", "秒"},
    {"data gap", "数据缺口"},
    {"calls waiting (blue) and SL (green), last hour", "近一小时排队数（蓝）与服务水平（绿）"},
    {"acked by {}", "{} 已确认"},
    {"sending ack…", "正在确认…"},
    {"ack accepted", "确认成功"},
    {"ack refused: {}", "确认被拒绝：{}"},
    {"comment (optional)", "备注（可选）"},
    {"Leaderboard", "座席排行"},
    {"#", "名次"},
    {"Agent", "座席"},
    {"Handled", "处理量"},
    {"today since {}", "今日（自 {} 起）"},
    {"this interval since {}", "本时段（自 {} 起）"},
    {"ranked by handled calls, then AHT; agents logged in for {} or more",
     "按处理量排名，其次平均处理时长；仅含登录满 {} 的座席"},
    {"not ranked, logged in for less: {}", "登录时长不足、未排名：{} 人"},
    {"nobody ranked yet", "暂无可排名座席"},
    {"min", "分钟"},
    {"{}: {} ({})", "{}：{}（{}）"},
    {"alert above {}", "告警线：高于 {}"},
    {"alert below {}", "告警线：低于 {}"},
    {"a caller has waited {}", "最长等待 {}"},
    {"{} calls waiting", "{} 个来电排队"},
    {"service level {}", "服务水平 {}"},
    {"{} of calls abandoned", "放弃率 {}"},
    {"{} agents available", "空闲座席 {} 名"},
    {"calls arriving at {} the expected rate", "来电速度为预期的 {}"},
    {"{} calls bounced between agents", "{} 个来电多次转接"},
    {"feed {}: no event for {} ({})", "数据源 {}：{} 无事件（{}）"},
    {"feed {}: no event yet", "数据源 {}：尚无事件"},
    {"; {} more agents needed", "；还需 {} 名座席"},
    {"no data yet", "暂无数据"},
    {"Broadcast", "广播"},
    {"{}: {} (until {}, {} left)", "{}：{}（至 {}，剩 {}）"},
    {"Message for every screen", "发给所有屏幕的消息"},
    {"for", "时长"},
    {"Send", "发送"},
    {"Withdraw", "撤回"},
    {"No broadcast live", "当前没有广播"},
    {"on every screen", "已显示在所有屏幕"},
    {"sending…", "发送中…"},
    {"Waiting in {}", "{} 排队来电"},
    {"Longest waiting", "等待最久"},
    {"No caller waiting", "无来电排队"},
    {"+{} more waiting, not listed", "另有 {} 个排队未列出"},
    {"Caller", "来电号码"},
    {"withheld", "未显示"},
    {"ringing {}", "振铃 {}"},
    {"Current call", "当前通话"},
    {"Wait", "等待"},
    {"Estimated wait for a new caller: {}", "新来电预计等待：{}"},
    {"click a queue to list its callers", "点击队列查看其排队来电"},
    {"calls / min, last hour", "近一小时每分钟来电"},
    {"max {}", "峰值 {}"},
    {"CRITICAL: {}", "严重告警：{}"},
    {"{} today", "{} 今日状态"},
    {"select an agent to see its day", "选择座席查看其今日状态"},
    {"loading…", "加载中…"},
    {"no agent history: {}", "无座席历史：{}"},
    {"{} earlier changes not kept", "更早的 {} 次变化未保留"},
    {"this daemon does not list callers (older than protocol 1.5)", "该服务端不提供排队来电列表（协议低于 1.5）"},
}};

}  // namespace

std::optional<Lang> parse_lang(std::string_view s) {
  if (s == "en") return Lang::en;
  if (s == "zh") return Lang::zh;
  return std::nullopt;
}

std::string_view text(Lang lang, Str s) {
  const auto& row = kRows[static_cast<std::size_t>(s)];
  return lang == Lang::zh ? row.zh : row.en;
}

}  // namespace callwatch::wallboard::vm
