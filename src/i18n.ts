/** The bot's own words, in English and Simplified Chinese. Keys are stable; add both languages together. */
export type Locale = 'en' | 'zh';

const en = {
  'error.rate_limited': 'The model is busy right now (rate limit). Please try again in a minute.',
  'error.moderated': 'The provider declined this request (content moderation).',
  'error.auth': 'The bot cannot reach the model: its API key was refused. An operator needs to check it.',
  'error.overdue': 'The model service is unavailable (account issue). An operator has been alerted.',
  'error.model_unavailable': 'The model {model} is not available right now.',
  'error.context_too_long': 'This conversation is too long for the model. Use /reset to start over.',
  'error.timeout': 'The model took too long to answer.',
  'error.server': 'The model service had a problem. Please try again.',
  'error.network': 'The model service could not be reached. Please try again.',
  'error.aborted': 'Stopped.',
  'error.invalid_request': 'The model refused the request as invalid.',
  'error.store': 'The bot could not save or load this conversation. Please try again shortly.',
  'error.internal': 'Something went wrong on the bot side. Please try again.',
  'status.thinking': '🤔 Thinking…',
  'status.stopped': '⏹️ Stopped by {user}.',
  'status.interrupted': '⚠️ This answer was interrupted (the bot restarted). Please ask again.',
  'status.restarting': '⚠️ The bot is restarting; this answer was cut short.',
  'status.shutting_down': '⚠️ The bot is restarting; please ask again in a minute.',
  'guard.rate_limited': 'You are sending messages too fast; please wait {seconds}s.',
  'guard.empty': 'Ask me something after the mention, or try /help.',
  'guard.too_long': 'Your message is too long ({chars} characters; at most {max}).',
  'reply.empty': '(The model returned an empty answer.)',
  'file.skipped': '(Skipped {name}: {why}.)',
  'cmd.unknown': 'Unknown command /{name}. Try /help.',
  'cmd.denied': 'Only admins can use /{name} here.',
  'cmd.bad_arg': '/{name}: {problem}. Usage: {usage}',
  'cmd.missing_arg': 'missing {option}',
  'cmd.too_many_args': 'too many arguments',
  'cmd.unknown_option': 'unknown option "{option}"',
  'cmd.not_integer': '{option} must be a whole number',
  'cmd.not_number': '{option} must be a number',
  'cmd.not_boolean': '{option} must be true or false',
  'cmd.too_long': '{option} is too long (at most {max} characters)',
  'cmd.not_choice': '{option} must be one of: {choices}',
  'help.header': 'Mention me or DM me to chat. Commands:',
  'reset.done': 'History cleared for this conversation.',
  'model.current': 'This conversation uses **{model}**.',
  'model.list_header': 'Available models:',
  'model.switched': 'Switched this conversation to **{model}**.',
  'model.unknown': 'Unknown model "{model}".',
  'model.suggest': 'Did you mean: {names}?',
  'model.known': 'Known models: {names}',
  'vision.routed': '(answered by {model}, which can see images)',
  'model.refused': 'DashScope refused {model} ({why}); this conversation keeps {previous}.',
  'model.default_set': 'Default model for this workspace is now **{model}**.',
  'model.answered_by': '— {model}',
  'thinking.state': 'Thinking is {state} here (model {model}).',
  'thinking.set': 'Thinking is now {state} here (model {model}).',
  'thinking.unsupported': '{model} cannot switch thinking on or off.',
  'search.state': 'Web search is {state} here (model {model}).',
  'search.set': 'Web search is now {state} here (model {model}).',
  'search.unsupported': '{model} does not support web search.',
  'system.current': 'System prompt here:\n> {text}',
  'system.default': 'This conversation uses the default system prompt.',
  'system.set': 'System prompt updated for this conversation.',
  'system.cleared': 'System prompt reset to the default.',
  'usage.conversation': 'This conversation',
  'usage.you': 'You',
  'usage.workspace': 'Whole workspace',
  'usage.today':
    'Today: {answers} answers, {prompt} in / {completion} out ({reasoning} reasoning) tokens, ≈¥{cost}',
  'usage.week':
    'Last 7 days: {answers} answers, {prompt} in / {completion} out ({reasoning} reasoning) tokens, ≈¥{cost}',
  'usage.all':
    'All time: {answers} answers, {prompt} in / {completion} out ({reasoning} reasoning) tokens, ≈¥{cost}',
  'usage.quota': 'You have used your daily token quota ({used} of {quota}). It resets at 00:00 UTC.',
  'word.on': 'on',
  'word.off': 'off',
} as const;

export type MessageKey = keyof typeof en;

const zh: Record<MessageKey, string> = {
  'error.rate_limited': '模型当前繁忙（触发限流），请稍后再试。',
  'error.moderated': '服务方拒绝了此请求（内容审核）。',
  'error.auth': '无法访问模型：API 密钥被拒绝，请联系管理员检查。',
  'error.overdue': '模型服务暂不可用（账户问题），已通知管理员。',
  'error.model_unavailable': '模型 {model} 当前不可用。',
  'error.context_too_long': '对话过长，超出模型上限。请使用 /reset 重新开始。',
  'error.timeout': '模型响应超时。',
  'error.server': '模型服务出现问题，请重试。',
  'error.network': '无法连接模型服务，请重试。',
  'error.aborted': '已停止。',
  'error.invalid_request': '模型认为请求无效。',
  'error.store': '无法保存或读取此对话，请稍后再试。',
  'error.internal': '机器人内部出错，请重试。',
  'status.thinking': '🤔 思考中…',
  'status.stopped': '⏹️ 已被 {user} 停止。',
  'status.interrupted': '⚠️ 回答被中断（机器人重启），请重新提问。',
  'status.restarting': '⚠️ 机器人正在重启，此回答未完成。',
  'status.shutting_down': '⚠️ 机器人正在重启，请稍后再问。',
  'guard.rate_limited': '发送过于频繁，请等待 {seconds} 秒。',
  'guard.empty': '请在提及后输入问题，或尝试 /help。',
  'guard.too_long': '消息过长（{chars} 个字符，最多 {max}）。',
  'reply.empty': '（模型返回了空回答。）',
  'file.skipped': '（已跳过 {name}：{why}。）',
  'cmd.unknown': '未知命令 /{name}，请尝试 /help。',
  'cmd.denied': '只有管理员可以在此使用 /{name}。',
  'cmd.bad_arg': '/{name}：{problem}。用法：{usage}',
  'cmd.missing_arg': '缺少 {option}',
  'cmd.too_many_args': '参数过多',
  'cmd.unknown_option': '未知选项“{option}”',
  'cmd.not_integer': '{option} 必须是整数',
  'cmd.not_number': '{option} 必须是数字',
  'cmd.not_boolean': '{option} 必须是 true 或 false',
  'cmd.too_long': '{option} 过长（最多 {max} 个字符）',
  'cmd.not_choice': '{option} 必须是以下之一：{choices}',
  'help.header': '提及我或私信我即可对话。命令：',
  'reset.done': '已清除本对话的历史记录。',
  'model.current': '本对话使用 **{model}**。',
  'model.list_header': '可用模型：',
  'model.switched': '本对话已切换到 **{model}**。',
  'model.unknown': '未知模型“{model}”。',
  'model.suggest': '您是不是要找：{names}？',
  'model.known': '已知模型：{names}',
  'vision.routed': '（由可识别图片的 {model} 回答）',
  'model.refused': 'DashScope 拒绝了 {model}（{why}）；本对话继续使用 {previous}。',
  'model.default_set': '本工作区的默认模型已设为 **{model}**。',
  'model.answered_by': '— {model}',
  'thinking.state': '此处思考模式为{state}（模型 {model}）。',
  'thinking.set': '此处思考模式已{state}（模型 {model}）。',
  'thinking.unsupported': '{model} 不支持切换思考模式。',
  'search.state': '此处联网搜索为{state}（模型 {model}）。',
  'search.set': '此处联网搜索已{state}（模型 {model}）。',
  'search.unsupported': '{model} 不支持联网搜索。',
  'system.current': '本对话的系统提示词：\n> {text}',
  'system.default': '本对话使用默认系统提示词。',
  'system.set': '已更新本对话的系统提示词。',
  'system.cleared': '系统提示词已恢复默认。',
  'usage.conversation': '本对话',
  'usage.you': '你',
  'usage.workspace': '整个工作区',
  'usage.today':
    '今天：{answers} 次回答，输入 {prompt} / 输出 {completion}（推理 {reasoning}）tokens，约 ¥{cost}',
  'usage.week':
    '最近 7 天：{answers} 次回答，输入 {prompt} / 输出 {completion}（推理 {reasoning}）tokens，约 ¥{cost}',
  'usage.all':
    '累计：{answers} 次回答，输入 {prompt} / 输出 {completion}（推理 {reasoning}）tokens，约 ¥{cost}',
  'usage.quota': '你今天的 token 配额已用完（{used} / {quota}），将于 UTC 00:00 重置。',
  'word.on': '开启',
  'word.off': '关闭',
};

const tables: Record<Locale, Record<MessageKey, string>> = { en, zh };

/** Maps a platform locale ("zh-CN", "en-US", "zh") to one we speak, else the fallback. */
export function toLocale(tag: string | undefined, fallback: Locale = 'en'): Locale {
  if (!tag) return fallback;
  const lower = tag.toLowerCase();
  if (lower.startsWith('zh')) return 'zh';
  if (lower.startsWith('en')) return 'en';
  return fallback;
}

export function t(locale: Locale, key: MessageKey, vars: Record<string, string | number> = {}): string {
  const template = tables[locale][key];
  return template.replace(/\{(\w+)\}/g, (m, name: string) => (name in vars ? String(vars[name]) : m));
}
