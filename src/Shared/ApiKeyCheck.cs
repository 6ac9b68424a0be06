using System.Security.Cryptography;
using System.Text;

namespace InferenceHost.Security;

/// <summary>Why a request was refused: the status (401 bad or missing key, 403 not an admin key), the message and the OpenAI error code.</summary>
public sealed record KeyRefusal(int Status, string Message, string Code);

/// <summary>
/// Bearer-key rules shared by the server and the gateway (linked into both): with no keys configured
/// everything is open; ordinary routes accept any API or admin key; admin routes need an admin key when
/// admin keys are set. Keys are compared as SHA-256 digests with <see cref="CryptographicOperations.FixedTimeEquals"/>.
/// </summary>
public static class ApiKeyCheck
{
    public static KeyRefusal? Check(string authorization, IReadOnlyCollection<string> apiKeys, IReadOnlyCollection<string> adminKeys, bool admin)
    {
        if (apiKeys.Count == 0 && adminKeys.Count == 0)
        {
            return null;
        }

        var key = authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? authorization[7..].Trim() : null;
        if (key is null)
        {
            return new KeyRefusal(401, "missing API key: send 'Authorization: Bearer <key>'", "invalid_api_key");
        }

        var isAdmin = Matches(key, adminKeys);
        if (!isAdmin && !Matches(key, apiKeys))
        {
            return new KeyRefusal(401, "invalid API key", "invalid_api_key");
        }

        return admin && adminKeys.Count > 0 && !isAdmin
            ? new KeyRefusal(403, "this route needs an admin key (Auth:AdminKeys)", "insufficient_permissions")
            : null;
    }

    private static bool Matches(string key, IEnumerable<string> keys)
    {
        var digest = SHA256.HashData(Encoding.UTF8.GetBytes(key));
        var found = false;
        foreach (var k in keys)
        {
            found |= CryptographicOperations.FixedTimeEquals(digest, SHA256.HashData(Encoding.UTF8.GetBytes(k)));
        }

        return found;
    }
}
