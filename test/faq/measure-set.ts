/**
 * The measured test set behind the FAQ's default thresholds: held-out paraphrases of the shipped FAQ's
 * entries (none is one of the entry's own phrasings), and unrelated questions that must not match.
 */
export const PARAPHRASES: Array<{ query: string; expect: string }> = [
  { query: 'how can I reset this conversation', expect: 'How do I reset the conversation?' },
  { query: 'reset conversation please', expect: 'How do I reset the conversation?' },
  { query: 'forget everything we talked about', expect: 'How do I reset the conversation?' },
  { query: 'clear my history', expect: 'How do I reset the conversation?' },
  { query: 'switch model', expect: 'How do I switch to another model?' },
  { query: 'how to change the model', expect: 'How do I switch to another model?' },
  { query: 'what models are available here', expect: 'How do I switch to another model?' },
  { query: 'what data do you store about me', expect: 'What data does the bot store about me?' },
  { query: 'is the chat history saved somewhere', expect: 'What data does the bot store about me?' },
  { query: 'how long are messages kept', expect: 'What data does the bot store about me?' },
  {
    query: 'why does the bot ignore my messages',
    expect: 'Why does the bot not answer my messages in a channel?',
  },
  {
    query: 'bot not answering in the channel',
    expect: 'Why does the bot not answer my messages in a channel?',
  },
  { query: 'can it read pictures', expect: 'Can the bot read images and files?' },
  { query: 'upload images and files', expect: 'Can the bot read images and files?' },
  { query: 'stop the answer', expect: 'How do I stop an answer that is still being written?' },
  {
    query: 'cancel a reply that is too long',
    expect: 'How do I stop an answer that is still being written?',
  },
  { query: 'do my DMs show up in other channels', expect: 'Does the bot remember other channels or my DMs?' },
  { query: 'what does the rate limit message mean', expect: 'What do the rate limit messages mean?' },
  { query: 'list the commands', expect: 'How do I see the available commands?' },
  { query: '怎么清空聊天记录', expect: '怎么清空对话记录？' },
  { query: '重置对话', expect: '怎么清空对话记录？' },
  { query: '怎么切换模型', expect: '如何切换模型？' },
  { query: '可以用哪些模型', expect: '如何切换模型？' },
  { query: '机器人保存了我的什么数据', expect: '机器人会保存我的哪些数据？' },
  { query: '聊天记录会保存吗', expect: '机器人会保存我的哪些数据？' },
];

export const UNRELATED: string[] = [
  'What is the capital of France?',
  'Write a poem about autumn',
  'How many legs does a spider have?',
  'Translate good morning into Spanish',
  'What is the weather like tomorrow?',
  'Explain quantum entanglement simply',
  'Recommend a good pizza recipe',
  'Who won the football match yesterday?',
  'Convert 10 miles to kilometers',
  'What year did the Berlin wall fall?',
  '今天天气怎么样',
  '给我讲个笑话',
  '北京有哪些好吃的',
  '帮我写一首关于春天的诗',
  '一公里等于多少米',
];
