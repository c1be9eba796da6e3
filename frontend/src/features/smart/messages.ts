/** UI texts of the SMART apps feature (launching apps from a patient's chart). */
const zhCN = {
  smart: {
    apps: '应用',
    menu: '在此患者的病历中打开应用',
    blocked: '浏览器阻止了新标签页，请允许本站打开弹出窗口后重试。',
    failed: '无法启动该应用。',
    opened: '已在新标签页中打开 {name}。',
  },
}

const en: typeof zhCN = {
  smart: {
    apps: 'Apps',
    menu: "Open an app with this patient's record",
    blocked: 'The browser blocked the new tab: allow pop-ups for this site and try again.',
    failed: 'The app could not be launched.',
    opened: 'Opened {name} in a new tab.',
  },
}

export default { 'zh-CN': zhCN, en }
