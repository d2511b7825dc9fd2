/**
 * A modal's keyboard contract: focus moves into the dialog when it opens, Tab and Shift+Tab cycle inside it (the page
 * behind is unreachable), Escape closes it, and focus returns to what had it before when the dialog goes away.
 */
import { onBeforeUnmount, onMounted, type Ref } from 'vue'

const FOCUSABLE = 'a[href], button:not([disabled]), input:not([disabled]):not([type="hidden"]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])'

function focusableIn(root: HTMLElement): HTMLElement[] {
  return [...root.querySelectorAll<HTMLElement>(FOCUSABLE)].filter((el) => !el.hasAttribute('data-focus-sentinel') && !el.closest('[hidden]') && el.getClientRects().length > 0)
}

export function useFocusTrap(root: Ref<HTMLElement | null>, o: { onEscape?: () => void; initial?: Ref<HTMLElement | null> } = {}): void {
  let before: Element | null = null
  const onKey = (e: KeyboardEvent) => {
    const el = root.value
    if (!el) return
    if (e.key === 'Escape' && o.onEscape) {
      e.preventDefault()
      o.onEscape()
      return
    }
    if (e.key !== 'Tab') return
    const items = focusableIn(el)
    if (!items.length) {
      e.preventDefault()
      el.focus()
      return
    }
    const first = items[0]!
    const last = items[items.length - 1]!
    const active = document.activeElement
    if (e.shiftKey && (active === first || !el.contains(active))) {
      e.preventDefault()
      last.focus()
    } else if (!e.shiftKey && (active === last || !el.contains(active))) {
      e.preventDefault()
      first.focus()
    }
  }
  // focus that escapes anyway (e.g. Tab out of an iframe inside the dialog, whose keys this document never sees) comes back
  const onFocusIn = (e: FocusEvent) => {
    const el = root.value
    if (!el || !(e.target instanceof Node) || el.contains(e.target)) return
    ;(focusableIn(el)[0] ?? el).focus()
  }
  // sentinels at both ends catch Tab out of an embedded document (an iframe's keys never reach this one)
  const sentinels: HTMLElement[] = []
  const sentinel = (where: 'start' | 'end') => {
    const s = document.createElement('span')
    s.tabIndex = 0
    s.setAttribute('data-focus-sentinel', where)
    s.setAttribute('aria-hidden', 'true')
    s.style.cssText = 'position:absolute;width:1px;height:1px;overflow:hidden;opacity:0'
    s.addEventListener('focus', () => {
      const items = root.value ? focusableIn(root.value) : []
      ;(where === 'start' ? items[items.length - 1] : items[0])?.focus()
    })
    sentinels.push(s)
    return s
  }
  onMounted(() => {
    before = document.activeElement
    root.value?.prepend(sentinel('start'))
    root.value?.append(sentinel('end'))
    document.addEventListener('keydown', onKey, true)
    document.addEventListener('focusin', onFocusIn)
    const el = root.value
    if (!el) return
    const target = o.initial?.value ?? focusableIn(el)[0] ?? el
    target.focus()
  })
  onBeforeUnmount(() => {
    document.removeEventListener('keydown', onKey, true)
    document.removeEventListener('focusin', onFocusIn)
    for (const s of sentinels) s.remove()
    if (before instanceof HTMLElement && before.isConnected) before.focus()
  })
}
