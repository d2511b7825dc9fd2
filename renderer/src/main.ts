import { createApp } from 'vue'
import './echarts'
import App from './App.vue'

createApp(App).mount('#app')
