namespace InferenceHost.ChatTemplates.Tests;

/// <summary>
/// Whitespace as Hugging Face's Jinja environment renders it (trim_blocks, lstrip_blocks, no trailing newline)
/// and compile errors with line and column.
/// </summary>
public sealed class WhitespaceAndSyntaxTests
{
    [Theory]
    [InlineData("{% if true %}\nyes\n{% endif %}\n", "yes\n")] // trim_blocks eats the newline after each block tag
    [InlineData("  {% if true %}\n    x\n  {% endif %}\nend", "    x\nend")] // lstrip_blocks eats the indentation before them
    [InlineData("a  {%- if true %} b {% endif -%}  c", "a b c")]
    [InlineData("{{ 'a' }}\n{{ 'b' }}\n", "a\nb")] // variable tags keep their newline; one trailing newline goes
    [InlineData("  {%+ if true %}x{% endif %}", "  x")]
    [InlineData("{% if true +%}\nx{% endif %}", "\nx")]
    [InlineData("a\n  {# a comment #}\nb", "a\nb")]
    [InlineData("x  {{- ' y ' -}}  \n z", "x y z")]
    [InlineData("a {{ '}}' }} b", "a }} b")]
    [InlineData("{{ {'k': {'n': 1}} }}", "{'k': {'n': 1}}")] // '}}' inside brackets does not end the tag
    [InlineData("line\r\nnext {{ 1 }}\r\n", "line\nnext 1")]
    [InlineData("{ not a tag }", "{ not a tag }")]
    public void Whitespace_is_controlled_as_in_Hugging_Face_templates(string template, string expected) =>
        Assert.Equal(expected, Render.Of(template));

    [Theory]
    [InlineData("hello\n{{ x.foo() }}", 2, 5, "the method 'foo' is not supported")]
    [InlineData("{{ nope(1) }}", 1, 4, "'nope' is not a supported function or a macro of this template")]
    [InlineData("a\n{% include 'x' %}", 2, 4, "the tag 'include' is not supported")]
    [InlineData("{{ x | nosuch }}", 1, 8, "the filter 'nosuch' is not supported")]
    [InlineData("{% if x is wobbly %}{% endif %}", 1, 12, "the test 'wobbly' is not supported")]
    [InlineData("{{ 'abc }}", 1, 4, "the string is not closed")]
    [InlineData("{% for m in messages %}\n{{ m }}", 2, 8, "expected '{% else %}' or '{% endfor %}', found the end of the template")]
    [InlineData("{% break %}", 1, 4, "'break' outside a for loop")]
    [InlineData("{% endif %}", 1, 4, "'endif' without a matching opening tag")]
    [InlineData("{{ (1 }}", 1, 7, "unexpected '}'")]
    [InlineData("{{ x", 1, 1, "the tag is not closed with '}}'")]
    [InlineData("{{ 1 + }}", 1, 8, "expected an expression, found '}}'")]
    [InlineData("{# open", 1, 1, "the comment is not closed with '#}'")]
    [InlineData("{% for x in y recursive %}{% endfor %}", 1, 15, "recursive loops are not supported")]
    [InlineData("{{ f(*args) }}", 1, 6, "*args and **kwargs are not supported")]
    public void Unsupported_or_malformed_syntax_fails_at_compile_time_with_line_and_column(string template, int line, int column, string detail)
    {
        var e = Render.SyntaxError(template);
        Assert.Equal((line, column, detail), (e.Line, e.Column, e.Detail));
        Assert.StartsWith($"line {line}, column {column}: ", e.Message);
    }

    [Fact]
    public void Macros_defined_anywhere_in_the_template_may_be_called()
    {
        Assert.Equal("[x]", Render.Of("{% macro wrap(s) %}[{{ s }}]{% endmacro %}{{ wrap('x') }}"));
        JinjaTemplate.Compile("{{ later() }}{% macro later() %}{% endmacro %}");
    }

    [Fact]
    public void Generation_blocks_render_their_body()
    {
        Assert.Equal("<a>hi</a>", Render.Of("<a>{% generation %}{{ 'hi' }}{% endgeneration %}</a>"));
    }
}
