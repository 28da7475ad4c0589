/** The bot's own words, in English and Simplified Chinese. Keys are stable; add both languages together. */
export type Locale = 'en' | 'zh';
/** Who reads a line: a chat user, or the operator (the terminal user), who is told what to check. */
export type Audience = 'user' | 'operator';

const en = {
  'error.rate_limited': 'The model is busy right now (rate limit). Please try again in a minute.',
  'error.moderated': 'The provider declined this request (content moderation).',
  'error.quota_exhausted':
    'The bot’s model account has used up its quota, so it cannot answer for now. An operator has been alerted.',
  'error.auth': 'The bot cannot reach the model: its API key was refused. An operator needs to check it.',
  'error.overdue': 'The model service is unavailable (account issue). An operator has been alerted.',
  'error.model_unavailable': 'The model {model} is not available right now.',
  'error.context_too_long': 'This conversation is too long for the model. Use {/reset} to start over.',
  'error.timeout': 'The model took too long to answer.',
  'error.server': 'The model service had a problem. Please try again.',
  'error.network': 'The model service could not be reached. Please try again.',
  'error.aborted': 'Stopped.',
  'error.queue_full':
    'The bot is busy: too many questions are waiting for the model right now. Please try again in a minute.',
  'error.invalid_request': 'The model refused the request as invalid.',
  'error.endpoint_not_found':
    'The bot cannot reach the model: its model service address is wrong. An operator needs to check it.',
  'operator.auth':
    'DashScope at {url} refused the API key ({status}): check DASHSCOPE_API_KEY, and that the key belongs to this region (qwen.region, DASHSCOPE_BASE_URL); keys are per region.',
  'operator.endpoint_not_found':
    '{url} answered {status} (no such path): it is not an OpenAI-compatible DashScope base URL. Check DASHSCOPE_BASE_URL (it ends in /compatible-mode/v1), or unset it and set qwen.region.',
  'operator.connection_refused':
    'Nothing is listening at {url} (connection refused): check DASHSCOPE_BASE_URL (host and port), and that the service is running.',
  'operator.host_not_found':
    'The host of {url} was not found (DNS): check DASHSCOPE_BASE_URL, and this machine’s network and DNS.',
  'error.store': 'The bot could not save or load this conversation. Please try again shortly.',
  'turn.busy': '⏳ This conversation is busy; try again in a moment.',
  'turn.lost':
    '⚠️ The bot lost contact with its shared store while answering, so this answer was stopped and not saved. Please ask again.',
  'error.internal': 'Something went wrong on the bot side. Please try again.',
  'status.thinking': '🤔 Thinking…',
  'status.queued': '⏳ queued — {ahead} ahead',
  'fallback.answered_by': '(answered by {model}; {wanted} was busy)',
  'status.stopped': '⏹️ Stopped by {user}.',
  'status.interrupted': '⚠️ This answer was interrupted (the bot restarted). Please ask again.',
  'status.restarting': '⚠️ The bot is restarting; this answer was cut short.',
  'status.shutting_down': '⚠️ The bot is restarting; please ask again in a minute.',
  'guard.rate_limited': 'You are sending messages too fast; please wait {seconds}s.',
  'guard.empty': 'Ask me something after the mention, or try {/help}.',
  'guard.too_long': 'Your message is too long ({chars} characters; at most {max}).',
  'reply.empty': '(The model returned an empty answer.)',
  'reply.cut_at_limit': '✂️ (Cut at the output limit: the answer is incomplete.)',
  'file.skipped': '(Skipped {name}: {why}.)',
  'documents.reading': '📄 Reading {name} ({size})…',
  'documents.unsupported': '📄 {name} cannot be read: documents can be {types}.',
  'documents.too_large': '📄 {name} ({size}) is over the {max} limit for documents.',
  'documents.unavailable':
    '📄 {name} could not be read: long documents ({model}) are not offered in this region.',
  'documents.failed': '📄 {name} could not be read ({why}).',
  'documents.none':
    'No documents in this conversation. Attach a PDF, Word, Excel or long text file to a question.',
  'documents.list': 'Documents this conversation answers from ({model}); {/docs} clear forgets them:',
  'documents.cleared': 'Forgot {count} document(s): follow-up questions no longer read them.',
  'file.cut': '(Cut {name} after {chars} characters: the text files of one message add at most {max}.)',
  'file.over_budget': '(Skipped {name}: the text files of one message add at most {max} characters.)',
  'cmd.unknown': 'Unknown command /{name}. Try {/help}.',
  'cmd.denied': 'Only admins can use {/name} here.',
  'cmd.private':
    '🔒 The reply to {/name} is private: use the {/name} slash command to see it (only you will).',
  'guard.denied': 'You cannot use this bot here.',
  'cmd.bad_arg': '{/name}: {problem}. Usage: {usage}',
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
  'model.unchecked':
    'Could not check {model} with DashScope ({why}); this conversation keeps {previous}. Try again.',
  'model.default_set': 'Default model for this workspace is now **{model}**.',
  'model.answered_by': '— {model}',
  'thinking.state': 'Thinking is {state} here (model {model}).',
  'thinking.set': 'Thinking is now {state} here (model {model}).',
  'thinking.unsupported': '{model} cannot switch thinking on or off.',
  'thinking.low': 'on (small budget: {tokens} tokens)',
  'thinking.high': 'on (large budget: {tokens} tokens)',
  'thinking.max': 'on (the model’s full budget)',
  'thinking.took': '💭 thought for {seconds} s',
  'search.state': 'Web search is {state} here (model {model}).',
  'search.set': 'Web search is now {state} here (model {model}).',
  'search.unsupported': '{model} does not support web search.',
  'channel.state': 'Here the bot answers {mode}.',
  'channel.state_inherited': 'In this thread the bot answers {mode}, as in its channel.',
  'channel.set': 'From now on, here the bot answers {mode}.',
  'channel.mode_all': 'every message, not only mentions',
  'channel.mode_mentions': 'only when mentioned or replied to',
  'channel.dm': 'In a DM the bot answers every message.',
  'channel.intent_off':
    '⚠️ The bot cannot read messages that do not mention it yet, so only mentions are answered: ask the operator to set discord.messageContentIntent: true and to turn on the Message Content intent in the Discord developer portal.',
  'quote.unreadable':
    '(I could not read the message you replied to: that needs the Message Content intent, which is off.)',
  'system.current': 'System prompt here:\n> {text}',
  'system.default': 'This conversation uses the default system prompt.',
  'system.set': 'System prompt updated for this conversation.',
  'system.cleared': 'System prompt reset to the default.',
  'tools.none':
    'No tool servers are configured. An operator adds them under `mcp.servers` in the config file (README, "Tools").',
  'tools.header': '**Tool servers** (what applies here, for you):',
  'tools.row': '• **{name}** ({transport}) — {state} — {here}',
  'tools.state.ready': 'ready',
  'tools.state.starting': 'starting',
  'tools.state.failed': 'failed: {error}',
  'tools.state.failed_retry': 'failed: {error} (retrying in {seconds} s)',
  'tools.state.disabled': 'turned off in config',
  'tools.list': '{count} tools: {names}',
  'tools.list_one': '1 tool: {names}',
  'tools.list_more': '{names} and {count} more',
  'tools.here.on': '✅ offered here',
  'tools.here.off': '⏸️ disabled here by an admin ({layer})',
  'tools.here.config-off': '🚫 turned off in config',
  'tools.here.channel': '🚫 not allowed here (config allows it only in some channels)',
  'tools.here.user': '🚫 not allowed for you (config allows it only for some users)',
  'tools.layer.conversation': 'this conversation',
  'tools.layer.channel': 'this thread’s channel',
  'tools.layer.workspace': 'the whole workspace',
  'tools.hint':
    'Admins: {/tools} enable <server> or {/tools} disable <server>; add `workspace` for the whole workspace.',
  'tools.unknown': 'Unknown tool server "{name}". Known: {names}.',
  'tools.unknown_none': 'Unknown tool server "{name}": no tool servers are configured.',
  'tools.need_server': '{/tools} {action} needs a server name. Known: {names}.',
  'tools.enabled_here': '**{name}** is now enabled in this conversation.',
  'tools.disabled_here': '**{name}** is now disabled in this conversation.',
  'tools.enabled_workspace': '**{name}** is now enabled in the whole workspace.',
  'tools.disabled_workspace': '**{name}** is now disabled in the whole workspace.',
  'tools.still_limited': 'Config still decides where it runs: {why}.',
  'tools.why.config-off': 'it is turned off in config',
  'tools.why.channel': 'only in some channels',
  'tools.why.user': 'only for some users, not you',
  'tools.overridden': 'Here it stays {state}: {layer} has its own switch.',
  'usage.conversation': 'This conversation',
  'usage.you': 'You',
  'usage.workspace': 'Whole workspace',
  'usage.today':
    'Today: {answers} answers, {prompt} in ({cached} cached) / {completion} out ({reasoning} reasoning) tokens, ≈¥{cost}{saving}',
  'usage.week':
    'Last 7 days: {answers} answers, {prompt} in ({cached} cached) / {completion} out ({reasoning} reasoning) tokens, ≈¥{cost}{saving}',
  'usage.all':
    'All time: {answers} answers, {prompt} in ({cached} cached) / {completion} out ({reasoning} reasoning) tokens, ≈¥{cost}{saving}',
  'usage.saved': ' (cache saved ≈¥{saved})',
  'usage.cacheExtra': ' (cache writes cost ≈¥{extra} more than they saved so far)',
  'usage.quota': 'You have used your daily token quota ({used} of {quota}). It resets at 00:00 UTC.',
  'forget.explain':
    'This deletes everything the bot stored about you: your messages (and the answers to them) in {count} conversation(s), your usage, and your DM settings. Run `{/forget} confirm` to proceed.',
  'forget.done':
    'Done: deleted {turns} stored message(s) from {count} conversation(s), your usage and your DM settings.',
  'word.on': 'on',
  'word.off': 'off',
  'faq.answer': '**{question}** (FAQ match {score})\n\n{answer}',
  'faq.did_you_mean': 'No FAQ entry matches "{query}" closely. Did you mean:',
  'faq.suggest_hint': 'Ask again with one of these questions.',
  'faq.no_match': 'No FAQ entry matches "{query}". Try other words, or mention me to ask the model.',
  'faq.generated':
    '🤖 No FAQ entry matches; this answer was generated by the model from the closest entries and may be wrong:',
  'faq.empty': 'The FAQ has no entries yet.',
  'faq.reloaded': 'FAQ reloaded: {entries} entries, {phrasings} phrasings, {embedded} newly embedded.',
  'faq.reload_failed': 'FAQ reload failed: {problem}. The previous FAQ is still in use.',
  'faq.reload_denied': 'Only admins can reload the FAQ.',
  'faq.used': '📖 Looked this up in the FAQ.',
  'tools.running': '🔧 {tools}…',
  'tools.used': '🔧 used {tools}',
  'stop.button': 'Stop',
  'stop.refused':
    'This answer cannot be stopped: it has finished, or only the asker or a moderator may stop it.',
  'assistant.prompts_title': 'Try asking:',
  'assistant.prompt_help_title': 'What can you do?',
  'assistant.prompt_help': 'What can you help me with?',
  'assistant.loading_1': 'Reading your question…',
  'assistant.loading_2': 'Thinking it through…',
  'assistant.loading_3': 'Writing the answer…',
} as const;

export type MessageKey = keyof typeof en;

const zh: Record<MessageKey, string> = {
  'error.rate_limited': '模型当前繁忙（触发限流），请稍后再试。',
  'error.moderated': '服务方拒绝了此请求（内容审核）。',
  'error.quota_exhausted': '机器人的模型账户额度已用完，暂时无法回答。已通知运维人员。',
  'error.auth': '无法访问模型：API 密钥被拒绝，请联系管理员检查。',
  'error.overdue': '模型服务暂不可用（账户问题），已通知管理员。',
  'error.model_unavailable': '模型 {model} 当前不可用。',
  'error.context_too_long': '对话过长，超出模型上限。请使用 {/reset} 重新开始。',
  'error.timeout': '模型响应超时。',
  'error.server': '模型服务出现问题，请重试。',
  'error.network': '无法连接模型服务，请重试。',
  'error.aborted': '已停止。',
  'error.queue_full': '机器人繁忙：等待模型的问题太多，请一分钟后再试。',
  'error.invalid_request': '模型认为请求无效。',
  'error.endpoint_not_found': '无法访问模型：模型服务地址配置有误，请联系管理员检查。',
  'operator.auth':
    '{url} 上的 DashScope 拒绝了 API 密钥（{status}）：请检查 DASHSCOPE_API_KEY，以及密钥是否属于该地域（qwen.region、DASHSCOPE_BASE_URL）；密钥按地域区分。',
  'operator.endpoint_not_found':
    '{url} 返回 {status}（路径不存在）：这不是 OpenAI 兼容的 DashScope 地址。请检查 DASHSCOPE_BASE_URL（应以 /compatible-mode/v1 结尾），或取消设置并改用 qwen.region。',
  'operator.connection_refused':
    '{url} 上没有服务在监听（连接被拒绝）：请检查 DASHSCOPE_BASE_URL（主机和端口）以及服务是否在运行。',
  'operator.host_not_found': '找不到 {url} 的主机（DNS）：请检查 DASHSCOPE_BASE_URL，以及本机的网络和 DNS。',
  'error.store': '无法保存或读取此对话，请稍后再试。',
  'turn.busy': '⏳ 此对话正忙，请稍后再试。',
  'turn.lost': '⚠️ 回答过程中机器人与共享存储失去联系，此回答已停止且未保存。请重新提问。',
  'error.internal': '机器人内部出错，请重试。',
  'status.thinking': '🤔 思考中…',
  'status.queued': '⏳ 排队中——前面还有 {ahead} 个',
  'fallback.answered_by': '（由 {model} 回答；{wanted} 繁忙）',
  'status.stopped': '⏹️ 已被 {user} 停止。',
  'status.interrupted': '⚠️ 回答被中断（机器人重启），请重新提问。',
  'status.restarting': '⚠️ 机器人正在重启，此回答未完成。',
  'status.shutting_down': '⚠️ 机器人正在重启，请稍后再问。',
  'guard.rate_limited': '发送过于频繁，请等待 {seconds} 秒。',
  'guard.empty': '请在提及后输入问题，或尝试 {/help}。',
  'guard.too_long': '消息过长（{chars} 个字符，最多 {max}）。',
  'reply.empty': '（模型返回了空回答。）',
  'reply.cut_at_limit': '✂️（已达到输出上限，回答不完整。）',
  'file.skipped': '（已跳过 {name}：{why}。）',
  'documents.reading': '📄 正在读取 {name}（{size}）…',
  'documents.unsupported': '📄 无法读取 {name}：文档可以是 {types}。',
  'documents.too_large': '📄 {name}（{size}）超过文档上限 {max}。',
  'documents.unavailable': '📄 无法读取 {name}：本地域不提供长文档模型（{model}）。',
  'documents.failed': '📄 无法读取 {name}（{why}）。',
  'documents.none': '本对话没有文档。提问时附上 PDF、Word、Excel 或较长的文本文件即可。',
  'documents.list': '本对话依据以下文档回答（{model}）；{/docs} clear 可清除：',
  'documents.cleared': '已清除 {count} 个文档：后续问题不再读取它们。',
  'file.cut': '（{name} 只保留了前 {chars} 个字符：一条消息的文本文件合计最多 {max} 个字符。）',
  'file.over_budget': '（已跳过 {name}：一条消息的文本文件合计最多 {max} 个字符。）',
  'cmd.unknown': '未知命令 /{name}，请尝试 {/help}。',
  'cmd.denied': '只有管理员可以在此使用 {/name}。',
  'cmd.private': '🔒 {/name} 的回复是私密的：请使用 {/name} 斜杠命令查看（只有你能看到）。',
  'guard.denied': '你不能在这里使用此机器人。',
  'cmd.bad_arg': '{/name}：{problem}。用法：{usage}',
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
  'model.unchecked': '暂时无法向 DashScope 确认 {model}（{why}）；本对话继续使用 {previous}，请稍后再试。',
  'model.default_set': '本工作区的默认模型已设为 **{model}**。',
  'model.answered_by': '— {model}',
  'thinking.state': '此处思考模式为{state}（模型 {model}）。',
  'thinking.set': '此处思考模式已{state}（模型 {model}）。',
  'thinking.unsupported': '{model} 不支持切换思考模式。',
  'thinking.low': '开启（小预算：{tokens} 个 token）',
  'thinking.high': '开启（大预算：{tokens} 个 token）',
  'thinking.max': '开启（模型的完整预算）',
  'thinking.took': '💭 思考了 {seconds} 秒',
  'search.state': '此处联网搜索为{state}（模型 {model}）。',
  'search.set': '此处联网搜索已{state}（模型 {model}）。',
  'search.unsupported': '{model} 不支持联网搜索。',
  'channel.state': '此处机器人回答{mode}。',
  'channel.state_inherited': '此话题中机器人回答{mode}，与所在频道相同。',
  'channel.set': '从现在起，机器人在此回答{mode}。',
  'channel.mode_all': '每一条消息（不只是提及）',
  'channel.mode_mentions': '仅提及或回复它的消息',
  'channel.dm': '私信中机器人回答每一条消息。',
  'channel.intent_off':
    '⚠️ 机器人目前无法读取未提及它的消息，因此仍只回答提及：请运维设置 discord.messageContentIntent: true，并在 Discord 开发者后台开启 Message Content intent。',
  'quote.unreadable': '（无法读取你回复的那条消息：这需要 Message Content intent，目前未开启。）',
  'system.current': '本对话的系统提示词：\n> {text}',
  'system.default': '本对话使用默认系统提示词。',
  'system.set': '已更新本对话的系统提示词。',
  'system.cleared': '系统提示词已恢复默认。',
  'tools.none': '尚未配置任何工具服务器。运维人员可在配置文件的 `mcp.servers` 下添加（见 README“Tools”）。',
  'tools.header': '**工具服务器**（此处对你适用的情况）：',
  'tools.row': '• **{name}**（{transport}）— {state} — {here}',
  'tools.state.ready': '就绪',
  'tools.state.starting': '启动中',
  'tools.state.failed': '失败：{error}',
  'tools.state.failed_retry': '失败：{error}（{seconds} 秒后重试）',
  'tools.state.disabled': '已在配置中关闭',
  'tools.list': '{count} 个工具：{names}',
  'tools.list_one': '1 个工具：{names}',
  'tools.list_more': '{names} 等另外 {count} 个',
  'tools.here.on': '✅ 此处可用',
  'tools.here.off': '⏸️ 管理员已在此处停用（{layer}）',
  'tools.here.config-off': '🚫 已在配置中关闭',
  'tools.here.channel': '🚫 此处不可用（配置只允许在部分频道使用）',
  'tools.here.user': '🚫 你不可用（配置只允许部分用户使用）',
  'tools.layer.conversation': '本对话',
  'tools.layer.channel': '本话题所在频道',
  'tools.layer.workspace': '整个工作区',
  'tools.hint':
    '管理员：{/tools} enable <服务器> 或 {/tools} disable <服务器>；加上 `workspace` 作用于整个工作区。',
  'tools.unknown': '未知工具服务器“{name}”。已知：{names}。',
  'tools.unknown_none': '未知工具服务器“{name}”：尚未配置任何工具服务器。',
  'tools.need_server': '{/tools} {action} 需要服务器名称。已知：{names}。',
  'tools.enabled_here': '已在本对话中启用 **{name}**。',
  'tools.disabled_here': '已在本对话中停用 **{name}**。',
  'tools.enabled_workspace': '已在整个工作区启用 **{name}**。',
  'tools.disabled_workspace': '已在整个工作区停用 **{name}**。',
  'tools.still_limited': '使用范围仍由配置决定：{why}。',
  'tools.why.config-off': '它已在配置中关闭',
  'tools.why.channel': '只限部分频道',
  'tools.why.user': '只限部分用户，不包括你',
  'tools.overridden': '此处仍为{state}：{layer}有自己的开关。',
  'usage.conversation': '本对话',
  'usage.you': '你',
  'usage.workspace': '整个工作区',
  'usage.today':
    '今天：{answers} 次回答，输入 {prompt}（缓存 {cached}）/ 输出 {completion}（推理 {reasoning}）tokens，约 ¥{cost}{saving}',
  'usage.week':
    '最近 7 天：{answers} 次回答，输入 {prompt}（缓存 {cached}）/ 输出 {completion}（推理 {reasoning}）tokens，约 ¥{cost}{saving}',
  'usage.all':
    '累计：{answers} 次回答，输入 {prompt}（缓存 {cached}）/ 输出 {completion}（推理 {reasoning}）tokens，约 ¥{cost}{saving}',
  'usage.saved': '（缓存节省约 ¥{saved}）',
  'usage.cacheExtra': '（缓存写入的花费比节省多约 ¥{extra}）',
  'usage.quota': '你今天的 token 配额已用完（{used} / {quota}），将于 UTC 00:00 重置。',
  'forget.explain':
    '这将删除机器人保存的关于你的所有数据：{count} 个对话中你的消息（及对它们的回答）、你的用量和私信设置。确认请运行 `{/forget} confirm`。',
  'forget.done': '已完成：从 {count} 个对话中删除了 {turns} 条消息，以及你的用量和私信设置。',
  'word.on': '开启',
  'word.off': '关闭',
  'faq.answer': '**{question}**（FAQ 匹配度 {score}）\n\n{answer}',
  'faq.did_you_mean': '没有与“{query}”足够接近的 FAQ 条目。您是不是想问：',
  'faq.suggest_hint': '请用上面的问题之一重新提问。',
  'faq.no_match': '没有与“{query}”匹配的 FAQ 条目。请换个说法，或提及我直接向模型提问。',
  'faq.generated': '🤖 FAQ 中没有匹配的条目；以下回答由模型根据最接近的条目生成，可能有误：',
  'faq.empty': 'FAQ 目前没有任何条目。',
  'faq.reloaded': 'FAQ 已重新加载：{entries} 个条目，{phrasings} 种问法，新嵌入 {embedded} 条。',
  'faq.reload_failed': 'FAQ 重新加载失败：{problem}。仍在使用之前的 FAQ。',
  'faq.reload_denied': '只有管理员可以重新加载 FAQ。',
  'faq.used': '📖 已查阅 FAQ。',
  'tools.running': '🔧 {tools}…',
  'tools.used': '🔧 使用了 {tools}',
  'stop.button': '停止',
  'stop.refused': '无法停止此回答：它已结束，或只有提问者或管理员可以停止。',
  'assistant.prompts_title': '可以这样问：',
  'assistant.prompt_help_title': '你能做什么？',
  'assistant.prompt_help': '你能帮我做些什么？',
  'assistant.loading_1': '正在阅读您的问题…',
  'assistant.loading_2': '正在思考…',
  'assistant.loading_3': '正在撰写回答…',
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

/**
 * How a platform writes a reference to one of the bot's commands: `/reset` on Discord and in the
 * terminal, `/qwen reset` in Slack (one slash command with the command as its first word).
 */
export type CommandSpeller = (command: string) => string;
export const slashCommand: CommandSpeller = (command) => `/${command}`;

/**
 * `{name}` is replaced by vars.name; `{/name}` is a command reference, written by `spell`: the command
 * named by vars.name when there is one, else `name` itself (`{/reset}`).
 */
export function t(
  locale: Locale,
  key: MessageKey,
  vars: Record<string, string | number> = {},
  spell: CommandSpeller = slashCommand,
): string {
  return tables[locale][key].replace(/\{(\/?)(\w+)\}/g, (m, slash: string, name: string) => {
    if (slash) return spell(name in vars ? String(vars[name]) : name);
    return name in vars ? String(vars[name]) : m;
  });
}

/** Command references (`{/faq} reload`) in the core's own text, such as command descriptions. */
export function spellCommandRefs(text: string, spell: CommandSpeller = slashCommand): string {
  return text.replace(/\{\/([a-z0-9_-]+)\}/g, (_, name: string) => spell(name));
}
