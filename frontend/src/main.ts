import 'element-plus/dist/index.css'
import '@/app/styles.css'

import { createPinia } from 'pinia'
import { createApp } from 'vue'

import App from '@/app/App.vue'
import { createAppI18n } from '@/app/i18n'
import { createAppRouter } from '@/app/router'

const pinia = createPinia()
const app = createApp(App)
app.use(pinia)
app.use(createAppI18n())
app.use(createAppRouter(pinia))
app.mount('#app')
