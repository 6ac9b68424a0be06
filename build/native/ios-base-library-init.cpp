// std::ios_base_library_init() first appeared in GCC 13's libstdc++ (GLIBCXX_3.4.32): it makes sure
// the standard streams are constructed. On an older runtime the same effect is one static Init object.
#include <ios>
namespace std {
void ios_base_library_init() { static ios_base::Init init; }
}
