import sharp from 'sharp';
import { readFileSync } from 'node:fs';
import { resizeBicubic, resizeNearest, premultiplyAlpha, unpremultiplyAlpha, bicubicCoefficients } from '/work/main/src/image/resample.ts';
const F='/work/main/test/fixtures/';
const m = JSON.parse(readFileSync(F+'preprocess/manifest.json','utf8'));
for (const im of m.images) {
  const { data, info } = await sharp(readFileSync(F+im.file)).raw().toBuffer({ resolveWithObject: true });
  let r = { data: new Uint8Array(data), width: info.width, height: info.height, channels: info.channels };
  const [w,h] = im.resize_to_wh;
  let mode = im.pil_mode;
  if (mode==='L') { const d=new Uint8Array(r.width*r.height); for(let i=0;i<d.length;i++) d[i]=r.data[i*3]; r={...r,data:d,channels:1}; }
  if (mode==='LA') { const n=r.width*r.height; const d=new Uint8Array(n*2); for(let i=0;i<n;i++){d[2*i]=r.data[i*4]; d[2*i+1]=r.data[i*4+3];} r={...r,data:d,channels:2}; }
  let out;
  if (mode==='P') out = resizeNearest(r,w,h);
  else if (mode==='RGBA'||mode==='LA') out = unpremultiplyAlpha(resizeBicubic(premultiplyAlpha(r),w,h));
  else out = resizeBicubic(r,w,h);
  const [l,t] = im.crop_left_top;
  const rgb = new Uint8Array(224*224*3); const ch=out.channels;
  for (let y=0;y<224;y++) for (let x=0;x<224;x++) { const p=((y+t)*out.width+x+l)*ch; const q=(y*224+x)*3;
    if (ch<=2) { rgb[q]=rgb[q+1]=rgb[q+2]=out.data[p]; } else { rgb[q]=out.data[p]; rgb[q+1]=out.data[p+1]; rgb[q+2]=out.data[p+2]; } }
  const exp = readFileSync(F+im.rgb224.file);
  let nd=0, md=0; for (let i=0;i<rgb.length;i++){ const d=Math.abs(rgb[i]-exp[i]); if(d){nd++; md=Math.max(md,d);} }
  console.log(im.file, mode, nd, md);
}
const c = bicubicCoefficients(640,298); console.log(c.ksize, c.start[0], c.count[0], Array.from(c.weights.slice(0,5)), c.start[1], c.count[1], Array.from(c.weights.slice(11,19)), c.start[149], c.count[149]);
const u = bicubicCoefficients(100,224); console.log(u.ksize, Array.from(u.weights.slice(0,5)), Array.from(u.weights.slice(5,10)));
