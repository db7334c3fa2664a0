import { describe, expect, it } from 'bun:test'
import { createTemplateEngine } from './engine.ts'

const render = (source: string, scope: Record<string, unknown>, kind: 'html' | 'text' = 'text') =>
  createTemplateEngine().parse(source, kind).render(scope)

describe('template engine: absent variables', () => {
  it('reads an absent variable as nil in a bare `{% if %}` and in the branch it guards', () => {
    const guarded =
      'Hello{% if name %} {{ name }}{% elsif other %}o{% endif %}{% if name.first %}f{% endif %}!'
    expect(render(guarded, {})).toBe('Hello!')
    expect(render(guarded, { name: 'Bo' })).toBe('Hello Bo!')
    expect(render(guarded, { other: true })).toBe('Helloo!')
    expect(render('{% if name == nil %}none{% endif %}', {})).toBe('none')
    expect(render('<p>{% if name %}{{ name }}{% endif %}</p>', { name: '<b>' }, 'html')).toBe(
      '<p>&lt;b&gt;</p>',
    )
  })

  it('still fails the render on an absent variable read anywhere else', () => {
    for (const source of [
      '{{ name }}{% if name %}{% endif %}',
      '{% if name == nil %}{{ name }}{% endif %}',
      '{% if name %}{% else %}{{ name }}{% endif %}',
      '{% if other %}{{ name }}{% elsif name %}{% endif %}',
      '{% if name | size %}{% endif %}{{ x }}',
      '{% for i in (1..2) %}{% if name %}{% endif %}{{ name }}{% endfor %}',
    ])
      expect(() => render(source, { other: true }), source).toThrow(/undefined variable: (name|x)/)
  })
})
