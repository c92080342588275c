// The screen's own words in zh-CN and en. Words about a sale, a result code or
// an error come from the agent (already in both languages); these are the rest.

export const LANGS = ["zh-CN", "en"];
const KEY = "scanpay.cashier.lang";

const WORDS = {
  app_title: ["scanpay 收银台", "scanpay cashier"],
  switch_lang: ["English", "中文"],
  loading: ["正在加载…", "Loading…"],
  // login
  who: ["请选择操作员", "Who is working?"],
  enter_pin: ["请输入 {name} 的密码", "{name}, enter your PIN"],
  pin: ["密码", "PIN"],
  login: ["登录", "Log in"],
  back: ["返回", "Back"],
  logout: ["退出", "Log out"],
  role_cashier: ["收银员", "Cashier"],
  role_supervisor: ["主管", "Supervisor"],
  no_operators: [
    "还没有操作员：运行 scanpay terminal operator add",
    "No operators yet: run scanpay terminal operator add",
  ],
  // navigation
  nav_sale: ["收款", "New sale"],
  nav_sales: ["交易记录", "Sales"],
  nav_day: ["日结", "Day close"],
  nav_terminal: ["终端", "Terminal"],
  // amount
  amount: ["金额", "Amount"],
  note: ["备注（可选）", "Note (optional)"],
  note_label: ["备注", "Note"],
  refunded: ["已退款", "Refunded"],
  charge: ["扫码收款", "Scan to charge"],
  show_qr: ["出示收款码", "Show QR to pay"],
  clear: ["清除", "Clear"],
  delete: ["删除", "Delete"],
  enter_amount: ["请输入金额", "Enter the amount"],
  // scanning
  camera: ["摄像头", "Camera"],
  camera_starting: ["正在打开摄像头…", "Starting the camera…"],
  camera_none: [
    "没有可用的摄像头：请用扫码枪、图片或手动输入",
    "No camera: use the scanner gun, an image or type the code",
  ],
  camera_hint: ["对准付款码，自动识别", "Aim at the code; it reads by itself"],
  camera_stop: ["关闭摄像头", "Stop camera"],
  camera_start: ["打开摄像头", "Start camera"],
  scanner_ready: ["扫码枪已就绪：直接扫描", "Scanner gun ready: just scan"],
  scanner_got: ["扫码枪读到：{text}", "Scanner read: {text}"],
  scan_image: ["从图片识别", "Read from an image"],
  reading_image: ["正在识别图片…", "Reading the image…"],
  type_code: ["输入或粘贴付款码", "Type or paste the payment code"],
  use_code: ["使用此码", "Use this code"],
  scan_again: ["请重新扫描", "Scan again"],
  // confirm
  check_title: ["请核对", "Check before you confirm"],
  wallet: ["钱包", "Wallet"],
  network: ["收款网络", "Network"],
  code: ["付款码", "Payment code"],
  payer: ["付款人", "Payer"],
  trade_no: ["交易号", "Trade number"],
  operator: ["操作员", "Operator"],
  time: ["时间", "Time"],
  state: ["状态", "State"],
  merchant_code_title: ["这是商户收款码", "This is a merchant's code"],
  payee: ["收款方", "Payee"],
  merchant: ["商户", "Merchant"],
  sticker_check: ["收款码核验", "Sticker check"],
  // the verdict in words when the host sent none (it could not be asked)
  sticker_this_merchant: ["这是本店的收款码", "This is this shop's code"],
  sticker_other_merchant: ["这是其他商户的收款码", "This is another merchant's code"],
  sticker_unknown_payee: ["收款方未知", "The payee is not known"],
  sticker_unavailable: ["暂时无法向主机核验", "The host could not be asked to check it"],
  not_charged: [
    "商户码不会扣款。请扫描顾客的付款码。",
    "A merchant's code is not charged. Scan the customer's payment code.",
  ],
  any_amount: ["顾客输入金额", "The payer types it"],
  // waiting and results
  seconds_left: ["剩余 {n} 秒", "{n} s left"],
  result_code: ["结果码 {code}", "Result code {code}"],
  next_step: ["下一步", "Next"],
  view_receipt: ["查看小票", "View receipt"],
  close: ["关闭", "Close"],
  print: ["打印", "Print"],
  printed: ["小票已打印", "Receipt printed"],
  print_failed: ["打印失败，请检查打印机", "Printing failed; check the printer"],
  refunded_so_far: ["已退款 {amount}", "Refunded so far {amount}"],
  training: ["培训", "TRAINING"],
  training_banner: [
    "培训模式：交易不涉及真实资金，不计入日结",
    "Training mode: no real money moves, nothing counts in the day's totals",
  ],
  // sales list
  recent_sales: ["最近交易", "Recent sales"],
  no_sales: ["还没有交易", "No sales yet"],
  refresh: ["刷新", "Refresh"],
  open: ["打开", "Open"],
  shown_qr: ["出示收款码", "Shown QR"],
  host_not_checked: [
    "暂时无法向收单主机核对：如在商户后台退过款，此处金额可能不是最新",
    "The host could not be asked just now: after a refund in the portal, these figures may be out of date",
  ],
  refund_elsewhere: ["在商户后台或收单机构退款", "Refunded in the portal or by the acquirer"],
  // refund
  refund_title: ["退款", "Refund"],
  refundable: ["可退金额", "Refundable"],
  refund_amount: ["退款金额", "Amount to refund"],
  refund_all: ["全部退款（{amount}）", "Refund all ({amount})"],
  refund_enter_amount: ["请输入退款金额，或点“全部退款”", "Enter the amount to refund, or press “Refund all”"],
  refund_confirm_q: ["确认退款 {amount}？", "Refund {amount}?"],
  refund_confirm_yes: ["确认退款", "Yes, refund"],
  refund_change: ["修改", "Change"],
  reason: ["原因（可选）", "Reason (optional)"],
  supervisor: ["主管", "Supervisor"],
  supervisor_pin: ["主管密码", "Supervisor PIN"],
  approve_as: ["由 {name} 批准（已登录）", "Approved by {name} (logged in)"],
  do_refund: ["退款", "Refund"],
  refund_ok: ["已退款 {amount}", "Refunded {amount}"],
  refund_state_PENDING: ["退款处理中", "Refund in progress"],
  refund_state_UNKNOWN: ["退款结果未知，正在查询", "Refund outcome unknown; querying"],
  refund_state_SUCCESS: ["退款成功", "Refund done"],
  refund_state_FAILED: ["退款失败", "Refund failed"],
  refunds: ["退款记录", "Refunds"],
  // day close
  day_title: ["今日汇总", "Today's totals"],
  business_day: ["营业日", "Business day"],
  payments: ["收款", "Payments"],
  refunds_total: ["退款", "Refunds"],
  net: ["净额", "Net"],
  declined: ["失败", "Declined"],
  cancelled: ["取消", "Cancelled"],
  reversed: ["撤销", "Reversed"],
  training_sales: ["培训交易（不计）", "Training (not counted)"],
  by_wallet: ["按钱包", "By wallet"],
  count: ["笔数", "Count"],
  total: ["金额", "Total"],
  close_day: ["日结", "Close the day"],
  day_closed: ["日结完成", "Day closed"],
  matched: ["与主机一致", "Matches the host"],
  not_matched: ["与主机不一致：请核对差异", "Differs from the host: check the differences"],
  differences: ["差异", "Differences"],
  zreport: ["Z 报表", "Z-report"],
  past_closes: ["历史日结", "Past closes"],
  host_error: ["主机未确认：{reason}", "Not confirmed by the host: {reason}"],
  host_unreachable: ["无法连接收单主机", "The host could not be reached"],
  day_not_checked: [
    "暂时无法向收单主机查询在商户后台的退款：汇总可能不是最新",
    "The host could not be asked for refunds made in the portal: these totals may be out of date",
  ],
  other_wallet: ["其他钱包", "Other wallet"],
  difference_unknown: ["有一笔记录与主机不一致", "A record differs from the host's"],
  // terminal
  terminal_title: ["终端", "Terminal"],
  selftest: ["自检", "Self-test"],
  run_selftest: ["重新自检", "Run the self-test"],
  status_page: ["状态页", "Status page"],
  status_ok: ["正常", "OK"],
  status_warn: ["警告", "Warning"],
  status_fail: ["故障", "Failed"],
  status_skip: ["跳过", "Skipped"],
  terminal_id: ["终端号", "Terminal"],
  host: ["收单主机", "Host"],
  version: ["软件版本", "Software"],
  training_mode: ["培训模式", "Training mode"],
  on: ["开启", "On"],
  off: ["关闭", "Off"],
  training_on: ["开启培训模式", "Turn training on"],
  training_off: ["关闭培训模式", "Turn training off"],
  sales_blocked: ["暂停收款：{reason}", "Sales blocked: {reason}"],
  in_doubt: ["{n} 笔交易结果待确认", "{n} sale(s) being resolved"],
  // show-to-pay
  order_title: ["请顾客扫码付款", "Ask the customer to scan and pay"],
  order_CREATING: ["正在生成收款码…", "Creating the QR code…"],
  order_SHOWN: ["请顾客用手机扫描此码", "Ask the customer to scan this code"],
  order_CLOSING: ["正在关闭订单…", "Closing the order…"],
  order_PAID: ["已收款", "Paid"],
  order_EXPIRED: ["收款码已过期，顾客未付款", "The code expired; nothing was paid"],
  order_CLOSED: ["订单已取消", "The order was cancelled"],
  order_FAILED: ["无法生成收款码", "The QR code could not be created"],
  paid_by: ["付款人 {payer}", "Paid by {payer}"],
  cancel_order: ["取消收款", "Cancel"],
  order_not_paid: ["顾客没有付款", "Nothing was paid"],
  // errors
  network_error: ["无法连接终端程序", "The terminal agent cannot be reached"],
  session_over: ["登录已过期，请重新登录", "Your session ended; log in again"],
};

let current = "en";

/** The language in use. */
export function lang() {
  return current;
}

/** The browser's own language: its first preference that we speak (any Chinese is
 * zh-CN, any English en), else English. */
export function browserLang(preferred = navigator.languages?.length ? navigator.languages : [navigator.language]) {
  for (const tag of preferred) {
    const value = String(tag || "").toLowerCase();
    if (value.startsWith("zh")) return "zh-CN";
    if (value.startsWith("en")) return "en";
  }
  return "en";
}

/** Pick the language: this browser's own choice (the switch, kept in this browser's
 * storage), else the operator's pin (the terminal's `language` setting), else the
 * browser's language. The choice is never sent to the terminal: it is not the next
 * browser's. */
export function initLang(pinned) {
  let saved = null;
  try {
    saved = localStorage.getItem(KEY);
  } catch {
    saved = null;
  }
  setLang(LANGS.includes(saved) ? saved : LANGS.includes(pinned) ? pinned : browserLang(), false);
}

export function setLang(value, remember = true) {
  current = LANGS.includes(value) ? value : "en";
  document.documentElement.lang = current;
  if (remember) {
    try {
      localStorage.setItem(KEY, current);
    } catch {
      /* private mode: the choice lasts for this page only */
    }
  }
}

/** A word of the screen, with `{name}` placeholders filled. */
export function t(key, values = {}) {
  const pair = WORDS[key];
  let text = pair ? pair[current === "zh-CN" ? 0 : 1] : key;
  for (const [name, value] of Object.entries(values)) text = text.split(`{${name}}`).join(value);
  return text;
}

/** The current language's text of a `{"zh-CN": ..., "en": ...}` object from the agent. */
export function pick(texts) {
  if (!texts) return "";
  if (typeof texts === "string") return texts;
  return texts[current] ?? texts.en ?? texts["zh-CN"] ?? "";
}
