namespace InferenceHost.ChatTemplates.Tests;

/// <summary>Expressions, filters, tests and methods with the results Python's Jinja gives.</summary>
public sealed class ExpressionTests
{
    [Theory]
    [InlineData("{{ 1 + 2 * 3 }}", "7")]
    [InlineData("{{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }}", "3 -4 1 2")]
    [InlineData("{{ 7 / 2 }} {{ 4 / 2 }} {{ 2 ** 10 }} {{ 0.1 + 0.2 }}", "3.5 2.0 1024 0.30000000000000004")]
    [InlineData("{{ 1e20 * 1.0 }} {{ 1.5e-5 }} {{ 0.0001 }} {{ -2.50 }}", "1e+20 1.5e-05 0.0001 -2.5")]
    [InlineData("{{ 'a' ~ 1 ~ none ~ undefined_name }}", "a1None")]
    [InlineData("{{ 'ab' + 'cd' }} {{ [1, 2] + [3] }} {{ 'ab' * 2 }}", "abcd [1, 2, 3] abab")]
    [InlineData("{{ none }} {{ true }} {{ False }} {{ undefined_name }}.", "None True False .")]
    [InlineData("{{ {'a': 1, 'b': [true, none, \"it's\"]} }}", "{'a': 1, 'b': [True, None, \"it's\"]}")]
    [InlineData("{{ (1, 2) }} {{ (1,) }} {{ () }}", "(1, 2) (1,) ()")]
    [InlineData("{{ 'Hello World'[::-1] }} {{ [1, 2, 3, 4][1:3] }} {{ [1, 2, 3][-1] }} [{{ 'abc'[5] }}] {{ 'abcdef'[::2] }}", "dlroW olleH [2, 3] 3 [] ace")]
    [InlineData("{{ [1, 2, 3][:-1] }} {{ [1, 2, 3][5:] }} {{ 'abc'[-2:] }} {{ [1, 2, 3, 4][3:0:-2] }}", "[1, 2] [] bc [4, 2]")]
    [InlineData("{{ 'a' in 'cat' }} {{ 2 not in [1, 3] }} {{ 'k' in {'k': 1} }} {{ 1 in undefined_name }}", "True True True False")]
    [InlineData("{{ 1 < 2 < 3 }} {{ 3 < 2 < 5 }} {{ 1 == 1.0 }} {{ true == 1 }} {{ 'a' < 'b' }} {{ [1, 2] == [1, 2] }}", "True False True True True True")]
    [InlineData("[{{ 'x' if false }}] {{ 'a' if 0 else 'b' }}", "[] b")]
    [InlineData("{{ 0 or 'x' }} [{{ '' and 'x' }}] {{ 1 and 'x' }} {{ not 0 }} {{ not 'a' == 'a' }}", "x [] x True False")]
    [InlineData("{{ -3 + +2 }} {{ - 2 ** 2 }}", "-1 4")]
    [InlineData("{{ 'a\\tb\\u00e9\\x41\\n' }}", "a\tbéA\n")]
    [InlineData("{{ \"con\" 'cat' }}", "concat")]
    public void Expressions_evaluate_as_in_Jinja(string template, string expected) => Assert.Equal(expected, Render.Of(template));

    [Fact]
    public void Undefined_renders_empty_but_its_attributes_are_errors()
    {
        Assert.Equal("[] False False", Render.Of("[{{ x }}] {{ x is defined }} {{ {'a': 1}.b is defined }}"));
        Assert.Equal("[] 0", Render.Of("[{% for m in x %}{{ m }}{% endfor %}] {{ x | length }}"));
        Assert.Contains("'x' is undefined", Assert.Throws<TemplateRuntimeException>(() => Render.Of("{{ x.y is defined }}")).Message);
        Assert.Contains("'x' is undefined", Assert.Throws<TemplateRuntimeException>(() => Render.Of("{{ x['y'] }}")).Message);
    }

    [Theory]
    [InlineData("{{ '  hi  ' | trim }}|{{ 'xxhixx' | trim('x') }}|{{ 'hello wORLD' | title }}|{{ 'hELLO' | capitalize }}", "hi|hi|Hello World|Hello")]
    [InlineData("{{ [3, 1, 2] | sort | join(',') }} {{ ['b', 'A', 'c'] | sort(reverse=true) | join }}", "1,2,3 cbA")]
    [InlineData("{{ [1, 2, 3] | length }} {{ 'héllo' | length }} {{ {'a': 1} | count }} {{ undefined_name | length }}", "3 5 1 0")]
    [InlineData("{{ undefined_name | default('d') }} {{ '' | default('d') }}[] {{ '' | default('d', true) }} {{ none | d('n') }}", "d [] d None")]
    [InlineData("{{ [1, 2] | first }} {{ [1, 2] | last }} {{ 'abc' | first }} [{{ [] | first }}]", "1 2 a []")]
    [InlineData("{{ 'a,b,c' | replace(',', ';') }} {{ 'a,b,c' | replace(',', ';', 1) }} {{ 'AbC' | lower }} {{ 'abc' | upper }}", "a;b;c a;b,c abc ABC")]
    [InlineData("{{ 'one\\ntwo\\n\\nthree' | indent(2) }}|{{ 'one\\ntwo' | indent(2, true) }}|{{ 'a\\n\\nb' | indent('> ', blank=true) }}", "one\n  two\n\n  three|  one\n  two|a\n> \n> b")]
    [InlineData("{% for k, v in {'a': 1, 'b': 2} | items %}{{ k }}={{ v }};{% endfor %}{% for k, v in {'c': 3}.items() %}{{ k }}{{ v }}{% endfor %}", "a=1;b=2;c3")]
    [InlineData("{{ [1, 'a', none] | string }} {{ 3 | string }} {{ [1, 2] | list }} {{ 'ab' | list }} {{ 'ab' | reverse }}", "[1, 'a', None] 3 [1, 2] ['a', 'b'] ba")]
    [InlineData("{{ '42' | int + 1 }} {{ 'x' | int }} {{ 3.9 | int }} {{ '2.5' | float }} {{ -3 | abs }}", "43 0 3 2.5 3")]
    [InlineData("{{ [1, 2, 3, 4] | select('odd') | list }} {{ [1, 2, 3, 4] | reject('divisibleby', 2) | list }} {{ [0, 1, ''] | select | list }}", "[1, 3] [1, 3] [1]")]
    [InlineData("{{ ['a', 'A', 'b'] | unique | list }} {{ [1, 2] | map('string') | join('-') }}", "['a', 'b'] 1-2")]
    public void Filters_behave_as_Jinjas(string template, string expected) => Assert.Equal(expected, Render.Of(template));

    [Fact]
    public void Attribute_filters_pick_from_lists_of_dicts()
    {
        const string Vars = """{"msgs": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b", "tool_calls": []}, {"role": "user", "content": "c"}]}""";
        Assert.Equal("a|c", Render.Of("{{ msgs | selectattr('role', 'equalto', 'user') | map(attribute='content') | join('|') }}", Vars));
        Assert.Equal("ac", Render.Of("{{ msgs | selectattr('tool_calls', 'undefined') | map(attribute='content') | join }}", Vars));
        Assert.Equal("b", Render.Of("{{ msgs | rejectattr('role', 'eq', 'user') | map(attribute='content') | join }}", Vars));
        Assert.Equal("b", Render.Of("{{ msgs | selectattr('tool_calls', 'defined') | map(attribute='content') | first }}", Vars));
        Assert.Equal("a", Render.Of("{{ msgs | map(attribute='content') | sort | first }}", Vars));
        Assert.Equal("user,assistant", Render.Of("{{ msgs | map(attribute='role') | unique | join(',') }}", Vars));
    }

    [Theory]
    [InlineData("{{ {'a': \"it's\", 'b': [1, 2.5, true, none]} | tojson }}", "{\"a\": \"it's\", \"b\": [1, 2.5, true, null]}")]
    [InlineData("{{ 'é\\n\"<>' | tojson }}", "\"é\\n\\\"<>\"")]
    [InlineData("{{ {'a': [1, {}], 'b': []} | tojson(indent=2) }}", "{\n  \"a\": [\n    1,\n    {}\n  ],\n  \"b\": []\n}")]
    [InlineData("{{ {'b': 1, 'a': 2} | tojson(sort_keys=true) }} {{ {'a': 1} | tojson(separators=(',', ':')) }} {{ 'é' | tojson(ensure_ascii=true) }}", "{\"a\": 2, \"b\": 1} {\"a\":1} \"\\u00e9\"")]
    public void Tojson_is_python_json_dumps_as_hugging_face_calls_it(string template, string expected) =>
        Assert.Equal(expected, Render.Of(template));

    [Theory]
    [InlineData("{{ 'x' is string }} {{ 1 is number }} {{ true is number }} {{ 1 is integer }} {{ true is integer }} {{ 1.0 is float }}", "True True True True False True")]
    [InlineData("{{ none is none }} {{ [1] is iterable }} {{ 'a' is iterable }} {{ {} is mapping }} {{ [] is mapping }} {{ undefined_name is iterable }}", "True True True True False True")]
    [InlineData("{{ 3 is odd }} {{ 3 is even }} {{ 6 is divisibleby 3 }} {{ 6 is divisibleby(4) }} {{ 'a' is not string }}", "True False True False False")]
    [InlineData("{{ x is defined }} {{ x is undefined }} {{ false is false }} {{ 0 is false }} {{ true is true }} {{ 2 is in [1, 2] }}", "False True True False True True")]
    [InlineData("{{ 'abc' is lower }} {{ 'ABC' is upper }} {{ 1 is eq 1 }} {{ 1 is ne 1 }} {{ 2 is gt 1 }} {{ none is sameas none }}", "True True True False True True")]
    public void Tests_behave_as_Jinjas(string template, string expected) => Assert.Equal(expected, Render.Of(template));

    [Theory]
    [InlineData("[{{ ' x '.strip() }}] [{{ 'xxaxx'.strip('x') }}] [{{ '\\n\\nx\\n'.lstrip('\\n') }}] [{{ 'x  '.rstrip() }}]", "[x] [a] [x\n] [x]")]
    [InlineData("{{ ' a b  c '.split() }} {{ 'a,b,,c'.split(',') }} {{ 'a b c'.split(none, 1) }} {{ 'a-b-c'.rsplit('-', 1) }} {{ 'a b  c '.rsplit(none, 1) }}", "['a', 'b', 'c'] ['a', 'b', '', 'c'] ['a', 'b c'] ['a-b', 'c'] ['a b', 'c']")]
    [InlineData("{{ 'a</think>b'.split('</think>')[-1] }} {{ 'x\\ny'.splitlines() }}", "b ['x', 'y']")]
    [InlineData("{{ 'abc'.startswith('ab') }} {{ 'abc'.endswith(('x', 'c')) }} {{ 'abc'.startswith('b') }}", "True True False")]
    [InlineData("{{ 'they are'.title() }} {{ 'aBc'.upper() }}{{ 'aBc'.lower() }} {{ 'aBc'.capitalize() }} {{ 'aaa'.replace('a', 'b', 2) }}", "They Are ABCabc Abc bba")]
    [InlineData("{{ 'abcb'.find('b') }} {{ 'abcb'.count('b') }} {{ ', '.join(['x', 'y']) }} {{ '12'.isdigit() }} {{ ' '.isspace() }}", "1 2 x, y True True")]
    [InlineData("{% set d = {'a': 1, 'b': 2} %}{{ d.get('a') }} {{ d.get('z', 'dflt') }} {{ d.get('z') }} {{ d.keys() | list }} {{ d.values() | list }}", "1 dflt None ['a', 'b'] [1, 2]")]
    [InlineData("{% for x in 'abc' %}{{ loop.cycle('o', 'e') }}{% endfor %}", "oeo")]
    public void String_and_dict_methods_behave_as_Pythons(string template, string expected) => Assert.Equal(expected, Render.Of(template));

    [Fact]
    public void Runtime_errors_name_the_problem_and_the_position()
    {
        var e = Assert.Throws<TemplateRuntimeException>(() => Render.Of("ok\n{{ 'a' + 1 }}"));
        Assert.StartsWith("line 2, column 8: unsupported operand type(s) for +: 'str' and 'int'", e.Message);
        Assert.Contains("'missing' is undefined", Assert.Throws<TemplateRuntimeException>(() => Render.Of("{{ missing + 'x' }}")).Message);
        Assert.Contains("'dict object' has no attribute 'a'", Assert.Throws<TemplateRuntimeException>(() => Render.Of("{{ {}.a.b }}")).Message);
        Assert.Contains("division by zero", Assert.Throws<TemplateRuntimeException>(() => Render.Of("{{ 1 // 0 }}")).Message);
        Assert.Contains("cannot unpack", Assert.Throws<TemplateRuntimeException>(() => Render.Of("{% for a, b in [1] %}{% endfor %}")).Message);
        Assert.Contains("is not a namespace()", Assert.Throws<TemplateRuntimeException>(() => Render.Of("{% set d = {} %}{% set d.x = 1 %}")).Message);
        Assert.Contains("nest deeper than 100", Assert.Throws<TemplateRuntimeException>(() => Render.Of("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}")).Message);
        Assert.Contains("more than 1000000 times", Assert.Throws<TemplateRuntimeException>(() => Render.Of("{{ 'a' * 10 ** 12 }}")).Message);
        Assert.IsAssignableFrom<TemplateRuntimeException>(Record.Exception(() => Render.Of("{{ [1] | join(attribute=none) }}{{ 'x'.split('') }}")));
    }

    [Fact]
    public void Raise_exception_carries_the_templates_message_exactly()
    {
        var e = Assert.Throws<TemplateRaisedException>(() => Render.Of("a{{ raise_exception('Roles must alternate: ' ~ 2) }}"));
        Assert.Equal("Roles must alternate: 2", e.Message);
    }

    [Fact]
    public void Strftime_now_formats_the_local_time_as_python_does()
    {
        var clock = new FixedClock(new DateTimeOffset(2024, 7, 26, 14, 5, 9, TimeSpan.FromHours(2)));
        Assert.Equal("26 Jul 2024|Friday July 07/26/24|14:05:09 02 PM|208 %", Render.Of("{{ strftime_now('%d %b %Y') }}|{{ strftime_now('%A %B %m/%d/%y') }}|{{ strftime_now('%H:%M:%S %I %p') }}|{{ strftime_now('%j %%') }}", clock: clock));
    }
}
