/** Virtual scrolling over a fixed row height: only the visible rows (plus overscan) are rendered. */
import { computed, onMounted, onScopeDispose, shallowRef, type Ref } from 'vue'
import { visibleRange } from '../util/table'

export function useVirtualList(container: Ref<HTMLElement | null>, total: () => number, rowHeight: number, overscan = 8) {
  const scrollTop = shallowRef(0)
  const height = shallowRef(400)
  const onScroll = () => {
    if (container.value) scrollTop.value = container.value.scrollTop
  }
  let ro: ResizeObserver | null = null
  onMounted(() => {
    const el = container.value
    if (!el) return
    height.value = el.clientHeight || 400
    ro = new ResizeObserver(() => (height.value = el.clientHeight || 400))
    ro.observe(el)
  })
  onScopeDispose(() => ro?.disconnect())
  const range = computed(() => visibleRange(scrollTop.value, height.value, rowHeight, total(), overscan))
  return { range, onScroll }
}
