# Builds target\wix\lounge-<version>-x64.msi on Windows.
#
#   packaging\windows\build.ps1 -FfmpegBin C:\ffmpeg\bin
#
# Needs: Rust (MSVC), the WiX Toolset v5 (`dotnet tool install --global wix`), and an FFmpeg
# 5.1-8.x *shared* build (headers + import libs for the build, DLLs for the package), with
# FFMPEG_DIR pointing at it for ffmpeg-sys-next and LIBCLANG_PATH at LLVM's bin for bindgen.
param(
    [Parameter(Mandatory = $true)][string]$FfmpegBin,
    [string]$Profile = "release"
)
$ErrorActionPreference = "Stop"
$repo = (Resolve-Path "$PSScriptRoot\..\..").Path
$version = (Select-String -Path "$repo\Cargo.toml" -Pattern '^version = "(.+)"$' |
    Select-Object -First 1).Matches[0].Groups[1].Value
$target = if ($env:CARGO_TARGET_DIR) { $env:CARGO_TARGET_DIR } else { "$repo\target" }

cargo build --manifest-path "$repo\Cargo.toml" --locked --profile $Profile -p lounge -p lounge-streamer
if ($LASTEXITCODE -ne 0) { throw "cargo build failed" }

New-Item -ItemType Directory -Force "$target\wix" | Out-Null
$msi = "$target\wix\lounge-$version-x64.msi"
wix build "$PSScriptRoot\lounge.wxs" -arch x64 -o $msi `
    -d "Version=$version" -d "BinDir=$target\$Profile" -d "FfmpegBin=$FfmpegBin" -d "RepoDir=$repo"
if ($LASTEXITCODE -ne 0) { throw "wix build failed" }
Write-Output $msi
